using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;

namespace CallNotify.Bench;

internal static class Scenarios
{
    public const string Bare = "bare endpoint";
    public const string WebSocket = "websocket";
    public const string Fcm = "fcm";
    public const string Sessions = "sessions";
}

/// <summary>
/// Runs the scenarios one after the other, each on its own CallNotify process and its own fresh database: the bare
/// endpoint (the baseline), WebSocket clients, FCM bindings against a fake FCM, and many live sessions.
/// </summary>
internal sealed class Benchmark(BenchOptions options)
{
    /// <summary>How long after the load stops a notification answered 200 may still arrive before it counts as lost.</summary>
    private static readonly TimeSpan DeliveryGrace = TimeSpan.FromSeconds(5);

    // Credentials made up for this run: Production refuses the development ones.
    private readonly string _accountSid = options.AccountSid ?? "AC" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private readonly string _authToken = options.AuthToken ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private readonly string _adminKey = options.AdminKey ?? "bench-admin-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private readonly string _signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private int _databases;

    public async Task<RunInfo> RunAsync(List<ScenarioResult> results, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var machine = Machine.Describe();
        var postgres = options.Postgres is null ? "not checked (no --postgres)" : await BenchDatabase.DescribeAsync(options.Postgres, cancellationToken);
        Console.WriteLine($"Machine: {machine.Host}, {machine.Cores} cores, {machine.Memory}, {machine.Os}, {machine.DotNet}; wake-up round trip {machine.WakeUpRoundTripUs?.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) ?? "not measured"} µs");
        Console.WriteLine($"PostgreSQL: {postgres}");
        Console.WriteLine($"Load average before the run: {machine.LoadAverage}");

        var bare = await RunBareAsync(cancellationToken);
        results.Add(bare);
        if (options.Runs(Scenarios.WebSocket))
        {
            results.Add(await RunWebSocketAsync(Scenarios.WebSocket, options.Clients, options.DurationSeconds, cancellationToken));
        }

        if (options.Runs(Scenarios.Fcm))
        {
            if (options.TargetUrl is null)
            {
                results.Add(await RunFcmAsync(cancellationToken));
            }
            else
            {
                Console.WriteLine("fcm: skipped (a target instance's FCM settings cannot be changed from here)");
            }
        }

        if (options.Runs(Scenarios.Sessions))
        {
            results.Add(await RunWebSocketAsync(Scenarios.Sessions, options.Sessions, options.SessionsDurationSeconds, cancellationToken));
        }

        foreach (var r in results.Where(r => r.Name != Scenarios.Bare))
        {
            r.RatioToBare = bare.Throughput > 0 ? r.Throughput / bare.Throughput : null;
        }

        var sample = new WebhookRequests(new Uri("http://127.0.0.1/"), _accountSid, _authToken, options.Clients);
        return new RunInfo(
            started,
            machine,
            postgres,
            Environment.GetEnvironmentVariable("BENCH_GIT_COMMIT") is { Length: > 0 } commit ? $"`{commit}`" : "(commit unknown)",
            options,
            sample.Body(0).Length,
            Environment.GetEnvironmentVariable("BENCH_COMMAND") is { Length: > 0 } command ? command : "bench/run.sh",
            Machine.ReadLoadAverage());
    }

    private async Task<ScenarioResult> RunBareAsync(CancellationToken cancellationToken)
    {
        Console.WriteLine($"{Scenarios.Bare}: starting bench/Bare");
        var port = ChildService.FreePort();
        await using var bare = await ChildService.StartAsync("bench/Bare", options.BareDllPath, port, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        }, cancellationToken);
        await using var memory = new MemorySampler(bare.Pid);
        var requests = new WebhookRequests(bare.BaseUrl, _accountSid, _authToken, options.Clients);
        var log = new RequestLog();
        var (window, cpu, _, _, _, _, runQueue) = await LoadAsync(requests, log, () => bare.CpuTime, bare.Pid, options.DurationSeconds, cancellationToken);
        var result = ScenarioResult.From(Scenarios.Bare, delivers: false, log, window, liveClients: 0);
        result.Cpu = cpu;
        result.RunQueue = runQueue;
        result.PeakRssKb = memory.PeakKb;
        result.HighWaterMarkKb = memory.HighWaterMarkKb;
        result.PeakThreads = memory.PeakThreads;
        Print(result);
        return result;
    }

    private async Task<ScenarioResult> RunWebSocketAsync(string name, int clients, int durationSeconds, CancellationToken cancellationToken)
    {
        await using var service = await StartCallNotifyAsync(name, clients, extra: null, cancellationToken);
        using var admin = AdminClient();
        var log = new RequestLog();

        Console.WriteLine(Inv($"{name}: connecting {clients:N0} WebSocket clients"));
        var connecting = Stopwatch.GetTimestamp();
        await using var sockets = await WebSocketClients.ConnectAsync(service.BaseUrl, admin, _accountSid, clients, cancellationToken);
        var connectSeconds = Stopwatch.GetElapsedTime(connecting).TotalSeconds;
        await service.WaitForSessionsAsync(clients, _accountSid, cancellationToken);
        var rssConnected = service.RssKb;
        sockets.Sink = (service.Requests, log);

        var (window, cpu, batches, store, runtime, wal, runQueue) = await LoadAsync(service.Requests, log, service.CpuTime, service.Pid, durationSeconds, cancellationToken, service.BaseUrl, service.Database);
        await WaitDeliveredAsync(log, cancellationToken);
        var result = ScenarioResult.From(name, delivers: true, log, window, sockets.Count);
        result.Cpu = cpu;
        result.BatchSizes = batches;
        result.StoreTimes = store;
        result.Runtime = runtime;
        result.Wal = wal;
        result.RunQueue = runQueue;
        result.Notes.Add(Inv($"{clients:N0} clients connected in {connectSeconds:0.0} s; service RSS {Mb(rssConnected)} MB once connected"));
        if (sockets.ReceiveErrors > 0)
        {
            result.Notes.Add(Inv($"{sockets.ReceiveErrors:N0} client connections broke"));
        }

        await service.FinishAsync(result, log, cancellationToken);
        Print(result);
        return result;
    }

    private async Task<ScenarioResult> RunFcmAsync(CancellationToken cancellationToken)
    {
        await using var fcm = await FakeFcmServer.StartAsync(cancellationToken);
        var keyDirectory = Directory.CreateTempSubdirectory("callnotify-bench-");
        try
        {
            var keyFile = fcm.WriteServiceAccount(keyDirectory.FullName);
            await using var service = await StartCallNotifyAsync(Scenarios.Fcm, options.Clients, new Dictionary<string, string>
            {
                ["Fcm__CredentialsFile"] = keyFile,
                ["Fcm__Endpoint"] = fcm.BaseUrl.ToString().TrimEnd('/'),
            }, cancellationToken);
            using var admin = AdminClient();
            Console.WriteLine(Inv($"{Scenarios.Fcm}: registering {options.Clients:N0} FCM bindings"));
            await Parallel.ForAsync(0, options.Clients, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (k, ct) =>
            {
                using var response = await admin.PostAsJsonAsync(new Uri(service.BaseUrl, "/admin/v1/bindings"), new
                {
                    accountSid = _accountSid,
                    identity = WebhookRequests.Identity(k),
                    channel = "fcm",
                    address = FakeFcmServer.RegistrationToken(service.Requests.RunTag, k),
                }, ct);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"POST /admin/v1/bindings answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                }
            });

            var log = new RequestLog();
            fcm.Sink = (service.Requests, log);
            var (window, cpu, batches, store, runtime, wal, runQueue) = await LoadAsync(service.Requests, log, service.CpuTime, service.Pid, options.DurationSeconds, cancellationToken, service.BaseUrl, service.Database);
            await WaitDeliveredAsync(log, cancellationToken);
            var result = ScenarioResult.From(Scenarios.Fcm, delivers: true, log, window, options.Clients);
            result.Cpu = cpu;
            result.BatchSizes = batches;
            result.StoreTimes = store;
            result.Runtime = runtime;
            result.Wal = wal;
            result.RunQueue = runQueue;
        result.RunQueue = runQueue;
            result.Receivers = "FCM bindings";
            result.Notes.Add(Inv($"fake FCM: {fcm.Sends:N0} messages received, OAuth token exchanges: {fcm.TokenExchanges:N0}; its CPU counts as the driver's"));
            await service.FinishAsync(result, log, cancellationToken);
            Print(result);
            return result;
        }
        finally
        {
            keyDirectory.Delete(recursive: true);
        }
    }

    /// <summary>Warm-up and measured load, with CPU measured over the measured part only.</summary>
    /// <param name="metricsOf">The service whose group-commit sizes are read over the measured part; null for none.</param>
    private async Task<(LoadWindow Window, CpuUse Cpu, GroupCommitSizes? Batches, StoreTimes? Store, RuntimeCounters? Runtime, WalUse? Wal, RunQueueUse? RunQueue)> LoadAsync(
        WebhookRequests requests,
        RequestLog log,
        Func<TimeSpan>? serviceCpu,
        int? servicePid,
        int durationSeconds,
        CancellationToken cancellationToken,
        Uri? metricsOf = null,
        string? database = null)
    {
        using var http = LoadGenerator.CreateClient(options.Concurrency);
        using var scraper = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var cpu = new CpuMeter(serviceCpu, options.PostgresPid);
        var scheduler = new RunQueueMeter(servicePid, options.PostgresPid);
        Task<string?>? before = null;
        Task<WalUse?>? walBefore = null;
        Console.WriteLine(Inv($"  load: {options.Concurrency} concurrent, {options.WarmupSeconds} s warm-up + {durationSeconds} s measured"));
        var window = await LoadGenerator.RunAsync(
            http,
            requests,
            log,
            options.Concurrency,
            TimeSpan.FromSeconds(options.WarmupSeconds),
            TimeSpan.FromSeconds(durationSeconds),
            () =>
            {
                cpu.Start();
                scheduler.Start();
                before = metricsOf is null ? null : GroupCommitSizes.FetchAsync(scraper, metricsOf, cancellationToken);
                walBefore = database is null ? null : WalUse.ReadAsync(database, cancellationToken);
            },
            cancellationToken);
        var used = cpu.Stop();
        var waited = scheduler.Stop();
        Console.WriteLine(Inv($"  scheduler: {waited?.ToString() ?? "no scheduler statistics"}"));
        WalUse? wal = null;
        if (database is not null && walBefore is not null)
        {
            wal = WalUse.Between(await walBefore, await WalUse.ReadAsync(database, cancellationToken));
            Console.WriteLine(Inv($"  wal: {wal?.ToString() ?? "pg_stat_wal not available"}"));
        }

        GroupCommitSizes? batches = null;
        StoreTimes? store = null;
        RuntimeCounters? runtime = null;
        if (metricsOf is not null && before is not null)
        {
            var start = await before;
            var end = await GroupCommitSizes.FetchAsync(scraper, metricsOf, cancellationToken);
            batches = GroupCommitSizes.Between(GroupCommitSizes.Parse(start), GroupCommitSizes.Parse(end));
            store = StoreTimes.Between(start, end);
            runtime = RuntimeCounters.Between(start, end);
            Console.WriteLine(Inv($"  runtime: {runtime?.ToString() ?? "not exported"}"));
            Console.WriteLine(Inv($"  group commit: {batches?.ToString() ?? "not exported"}"));
            Console.WriteLine(Inv($"  store: {store?.ToString() ?? "not exported"}"));
        }

        return (window, used, batches, store, runtime, wal, waited);
    }

    private static async Task WaitDeliveredAsync(RequestLog log, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(DeliveryGrace.TotalSeconds * Stopwatch.Frequency);
        while (log.Undelivered() > 0 && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(100, cancellationToken);
        }
    }

    private HttpClient AdminClient()
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _adminKey);
        return http;
    }

    private async Task<ServiceUnderTest> StartCallNotifyAsync(
        string scenario,
        int callees,
        IReadOnlyDictionary<string, string>? extra,
        CancellationToken cancellationToken)
    {
        if (options.TargetUrl is { } target)
        {
            Console.WriteLine($"{scenario}: driving {target}");
            return new ServiceUnderTest(
                null,
                new WebhookRequests(target, _accountSid, _authToken, callees),
                database: options.Postgres,
                server: null,
                databaseName: null,
                pid: options.TargetPid);
        }

        var database = Inv($"bench_{scenario}_{DateTime.UtcNow:yyyyMMddHHmmss}_{Environment.ProcessId}_{++_databases}");
        var connection = await BenchDatabase.CreateAsync(options.Postgres!, database, cancellationToken);
        try
        {
            var port = ChildService.FreePort();
            var requests = new WebhookRequests(new Uri(Inv($"http://127.0.0.1:{port}/")), _accountSid, _authToken, callees);
            var environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Storage__Provider"] = "Postgres",
                ["ConnectionStrings__CallNotify"] = connection,
                ["Twilio__Accounts__0__AccountSid"] = _accountSid,
                ["Twilio__Accounts__0__AuthToken"] = _authToken,
                ["Twilio__WebhookUrl"] = requests.WebhookUrl,
                ["Admin__ApiKeys__0"] = _adminKey,
                ["WebSocket__TokenSigningKey"] = _signingKey,
                ["RateLimits__AdminPermitsPerMinute"] = "1000000",
                ["RateLimits__WebSocketUpgradesPerMinute"] = "1000000",
            };
            foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            {
                environment[key] = value;
            }

            Console.WriteLine($"{scenario}: starting CallNotify on database {database}");
            var child = await ChildService.StartAsync("CallNotify", options.ApiDllPath, port, environment, cancellationToken);
            var seeding = System.Diagnostics.Stopwatch.StartNew();
            await BenchDatabase.SeedAsync(connection, cancellationToken);
            Console.WriteLine(Inv($"{scenario}: tables seeded with {BenchDatabase.SeededNotifications:N0} past notifications and {BenchDatabase.SeededBindings:N0} other bindings in {seeding.Elapsed.TotalSeconds:0.0} s"));
            return new ServiceUnderTest(child, requests, connection, options.Postgres, database, child.Pid);
        }
        catch
        {
            await BenchDatabase.DropAsync(options.Postgres!, database);
            throw;
        }
    }

    private static void Print(ScenarioResult r) =>
        Console.WriteLine(
            Inv($"  {r.Name}: {r.Throughput:N0} req/s; webhook p50 {r.WebhookP50Ms:0.00} ms p99 {r.WebhookP99Ms:0.00} ms; ") +
            Inv($"e2e p50 {r.EndToEndP50Ms:0.00} ms p99 {r.EndToEndP99Ms:0.00} ms; errors {r.Errors} {r.ErrorDetail}; lost {r.Lost}; ") +
            Inv($"unrecorded {r.Unrecorded}; peak RSS {Mb(r.PeakRssKb)} MB; CPU service {r.Cpu.Service:0.00} postgres {r.Cpu.Postgres:0.00} driver {r.Cpu.Driver:0.00} machine {r.Cpu.Machine:0.00}"));

    private static string Mb(long? kb) => kb is { } v ? (v * 1024 / 1e6).ToString("0", CultureInfo.InvariantCulture) : "?";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// CallNotify for one scenario: the child process (null when targeting a running instance), its database (dropped
/// at the end), the requests signed for its URL, and the memory sampler.
/// </summary>
internal sealed class ServiceUnderTest : IAsyncDisposable
{
    private readonly ChildService? _child;
    private readonly string? _database;
    private readonly string? _server;
    private readonly string? _databaseName;
    private readonly MemorySampler? _memory;
    private readonly int? _pid;

    public ServiceUnderTest(ChildService? child, WebhookRequests requests, string? database, string? server, string? databaseName, int? pid)
    {
        _child = child;
        Requests = requests;
        _database = database;
        _server = server;
        _databaseName = databaseName;
        _pid = pid;
        _memory = pid is { } p ? new MemorySampler(p) : null;
    }

    public WebhookRequests Requests { get; }

    /// <summary>The scenario's database (an Npgsql connection string), when the benchmark knows it.</summary>
    public string? Database => _database;

    public Uri BaseUrl => _child?.BaseUrl ?? new Uri(new Uri(Requests.WebhookUrl), "/");

    public Func<TimeSpan>? CpuTime => _child is { } child
        ? () => child.CpuTime
        : _pid is { } pid ? () => ProcessCpu(pid) : null;

    /// <summary>The service's process, when the benchmark knows it.</summary>
    public int? Pid => _pid;

    public long? RssKb => _pid is { } pid ? MemorySampler.ReadStatusKb(pid, "VmRSS:") : null;

    /// <summary>Waits until the store counts every client's session, so no webhook races a registration.</summary>
    public async Task WaitForSessionsAsync(int count, string accountSid, CancellationToken cancellationToken)
    {
        if (_database is null)
        {
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            return;
        }

        var deadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
        long live;
        while ((live = await BenchDatabase.LiveSessionsAsync(_database, accountSid, cancellationToken)) < count)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Only {live} of {count} WebSocket sessions were registered in the store after 60 s.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Memory figures, and how many answered notifications the store is missing.</summary>
    public async Task FinishAsync(ScenarioResult result, RequestLog log, CancellationToken cancellationToken)
    {
        if (_memory is not null)
        {
            result.PeakRssKb = _memory.PeakKb;
            result.HighWaterMarkKb = _memory.HighWaterMarkKb;
            result.PeakThreads = _memory.PeakThreads;
        }

        if (_child is { HasExited: true })
        {
            throw new InvalidOperationException($"CallNotify exited during the {result.Name} scenario:\n{_child.OutputTail}");
        }

        if (_database is not null)
        {
            var recorded = await BenchDatabase.RecordedMessageIdsAsync(_database, Requests.AccountSid, cancellationToken);
            long missing = 0;
            for (long seq = 0; seq < log.Count; seq++)
            {
                if (log.Get(seq).Status == 200 && !recorded.Contains(Requests.MessageId(seq)))
                {
                    missing++;
                }
            }

            result.Unrecorded = missing;
        }
    }

    private static TimeSpan ProcessCpu(int pid)
    {
        using var process = Process.GetProcessById(pid);
        return process.TotalProcessorTime;
    }

    public async ValueTask DisposeAsync()
    {
        if (_memory is not null)
        {
            await _memory.DisposeAsync();
        }

        if (_child is not null)
        {
            await _child.DisposeAsync();
        }

        if (_server is not null && _databaseName is not null)
        {
            await BenchDatabase.DropAsync(_server, _databaseName);
        }
    }
}
