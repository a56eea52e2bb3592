using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CallNotify.Bench;

/// <summary>
/// A web app started as a child process (<c>dotnet X.dll</c>) on a free loopback port, with its configuration in
/// environment variables; ready once <c>GET /readyz</c> answers 200. Every child is also named in the file given by
/// <c>BENCH_CHILD_PIDS</c>, so <c>bench/run.sh</c> can end it if the driver itself is killed.
/// </summary>
internal sealed class ChildService : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ChildService(string name, Process process, Uri baseUrl)
    {
        Name = name;
        _process = process;
        BaseUrl = baseUrl;
    }

    public string Name { get; }

    public Uri BaseUrl { get; }

    public int Pid => _process.Id;

    /// <summary>User + system CPU time of the process so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process printed, for a failure message.</summary>
    public string OutputTail => string.Join('\n', _output.TakeLast(40));

    /// <summary>Picks a free loopback port; the caller puts it in the child's environment.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<ChildService> StartAsync(
        string name,
        string dll,
        int port,
        IReadOnlyDictionary<string, string> environment,
        CancellationToken cancellationToken)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: build it first (bench/run.sh does: dotnet build -c Release).", dll);
        }

        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Nothing from the caller's shell configures the child: only what the benchmark sets.
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.Contains("__", StringComparison.Ordinal)
                || key.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
                || key.StartsWith("OTEL_", StringComparison.Ordinal)
                || key.StartsWith("DOTNET_gc", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("DOTNET_GC", StringComparison.Ordinal))
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start.");
        Running[process.Id] = process;
        NoteChild(process.Id);
        var child = new ChildService(name, process, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"));
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await child.WaitReadyAsync(cancellationToken);
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }

        return child;
    }

    /// <summary>Ends every child still running (the driver is exiting).</summary>
    public static void KillAll()
    {
        foreach (var process in Running.Values)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }
    }

    /// <summary>SIGTERM and a graceful stop; SIGKILL if it takes longer than <see cref="StopTimeout"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                if (kill is not null)
                {
                    await kill.WaitForExitAsync(CancellationToken.None);
                }

                await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(StopTimeout, CancellationToken.None);
            }
            catch (Exception ex) when (ex is TimeoutException or System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync(CancellationToken.None);
                }
            }
        }

        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.GetTimestamp() + (long)(ReadyTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited during start-up (code {_process.ExitCode}):\n{OutputTail}");
            }

            try
            {
                using var ready = await http.GetAsync(new Uri(BaseUrl, "/readyz"), cancellationToken);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{Name} was not ready within {ReadyTimeout.TotalSeconds} s:\n{OutputTail}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static void NoteChild(int pid)
    {
        var file = Environment.GetEnvironmentVariable("BENCH_CHILD_PIDS");
        if (!string.IsNullOrEmpty(file))
        {
            File.AppendAllText(file, pid.ToString(CultureInfo.InvariantCulture) + "\n");
        }
    }
}
