using System.Globalization;

namespace CallNotify.Bench;

/// <summary>The driver's command line. Every option has a default; <c>bench/run.sh</c> passes extra arguments through.</summary>
internal sealed class BenchOptions
{
    public const string Usage = """
        Usage: bench/run.sh [options]      (or: dotnet bench/Driver/bin/Release/net10.0/Bench.Driver.dll [options])

          --scenario S        websocket | fcm | sessions | all (default all); the bare endpoint always runs too
          --concurrency N     requests in flight, one worker each (default 32)
          --duration S        measured seconds per scenario (default 20)
          --warmup S          warm-up seconds before each measured window (default 5)
          --clients N         live WebSocket clients / FCM bindings, one identity each (default 100)
          --sessions N        live WebSocket sessions in the sessions scenario (default 1000)
          --sessions-duration S  measured seconds of the sessions scenario (default 10)
          --postgres CS       Npgsql connection string of a role that may create databases
                              (default: CALLNOTIFY_BENCH_POSTGRES; run.sh starts a throwaway server when neither is set)
          --out DIR           where the Markdown results go (default bench/results)
          --baseline FILE     a report of the current main's run on this machine: adds issue #14's relative targets
                              (webhook and end-to-end p99 at most half, PostgreSQL CPU per webhook at most 40 %)
          --repo DIR          the CallNotify checkout (default: the current directory)
          --api-dll PATH      default <repo>/src/Api/bin/Release/net10.0/CallNotify.Api.dll
          --bare-dll PATH     default <repo>/bench/Bare/bin/Release/net10.0/Bench.Bare.dll
          --target-url URL    drive an already running CallNotify instead of starting one (needs --account-sid,
                              --auth-token, --admin-key; the FCM scenario is skipped; --target-pid for its memory;
                              --postgres is then that instance's own database, used only to check the records)
          --account-sid AC…   --auth-token T   --admin-key K   --target-pid PID
          --postgres-pid PID  the postmaster of a server on this machine, to report PostgreSQL's CPU
                              (default BENCH_POSTGRES_PID, which run.sh sets for its throwaway server)
          -h, --help
        """;

    public string Scenario { get; private set; } = "all";

    public int Concurrency { get; private set; } = 32;

    public int DurationSeconds { get; private set; } = 20;

    public int WarmupSeconds { get; private set; } = 5;

    public int Clients { get; private set; } = 100;

    public int Sessions { get; private set; } = 1000;

    public int SessionsDurationSeconds { get; private set; } = 10;

    public string? Postgres { get; private set; } = NullIfEmpty(Environment.GetEnvironmentVariable("CALLNOTIFY_BENCH_POSTGRES"));

    public string Out { get; private set; } = Path.Combine("bench", "results");

    public string Repo { get; private set; } = Directory.GetCurrentDirectory();

    public string? ApiDll { get; private set; }

    public string? BareDll { get; private set; }

    public Uri? TargetUrl { get; private set; }

    public string? AccountSid { get; private set; }

    public string? AuthToken { get; private set; }

    public string? AdminKey { get; private set; }

    public int? TargetPid { get; private set; }

    /// <summary>The postmaster's PID, to measure PostgreSQL's CPU (run.sh sets BENCH_POSTGRES_PID for its own server).</summary>
    public int? PostgresPid { get; private set; } =
        int.TryParse(Environment.GetEnvironmentVariable("BENCH_POSTGRES_PID"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;

    public bool Help { get; private set; }

    /// <summary>A report of the current main's run on this machine, for issue #14's relative targets (<c>--baseline</c>).</summary>
    public string? Baseline { get; private set; }

    public bool Runs(string scenario) => Scenario == "all" || Scenario == scenario;

    public string ApiDllPath => ApiDll ?? Path.Combine(Repo, "src", "Api", "bin", "Release", "net10.0", "CallNotify.Api.dll");

    public string BareDllPath => BareDll ?? Path.Combine(Repo, "bench", "Bare", "bin", "Release", "net10.0", "Bench.Bare.dll");

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                options.Help = true;
                continue;
            }

            // Both "--name value" and "--name=value".
            string value;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"{name} needs a value.");
                }

                value = args[++i];
            }

            switch (name)
            {
                case "--scenario":
                    options.Scenario = value is "websocket" or "fcm" or "sessions" or "all"
                        ? value
                        : throw new ArgumentException("--scenario must be websocket, fcm, sessions or all.");
                    break;
                case "--concurrency": options.Concurrency = Positive(name, value, 4096); break;
                case "--duration": options.DurationSeconds = Positive(name, value, 3600); break;
                case "--warmup": options.WarmupSeconds = Positive(name, value, 600, allowZero: true); break;
                case "--clients": options.Clients = Positive(name, value, 100_000); break;
                case "--sessions": options.Sessions = Positive(name, value, 100_000); break;
                case "--sessions-duration": options.SessionsDurationSeconds = Positive(name, value, 3600); break;
                case "--postgres": options.Postgres = NullIfEmpty(value); break;
                case "--out": options.Out = value; break;
                case "--baseline": options.Baseline = File.Exists(value) ? Path.GetFullPath(value) : throw new ArgumentException($"--baseline: no file {value}."); break;
                case "--repo": options.Repo = Path.GetFullPath(value); break;
                case "--api-dll": options.ApiDll = Path.GetFullPath(value); break;
                case "--bare-dll": options.BareDll = Path.GetFullPath(value); break;
                case "--target-url":
                    options.TargetUrl = Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                        ? url
                        : throw new ArgumentException("--target-url must be an absolute http(s) URL.");
                    break;
                case "--account-sid": options.AccountSid = value; break;
                case "--auth-token": options.AuthToken = value; break;
                case "--admin-key": options.AdminKey = value; break;
                case "--target-pid": options.TargetPid = Positive(name, value, int.MaxValue); break;
                case "--postgres-pid": options.PostgresPid = Positive(name, value, int.MaxValue); break;
                default: throw new ArgumentException($"Unknown option {name}.");
            }
        }

        if (options.TargetUrl is not null
            && (string.IsNullOrEmpty(options.AccountSid) || string.IsNullOrEmpty(options.AuthToken) || string.IsNullOrEmpty(options.AdminKey)))
        {
            throw new ArgumentException("--target-url needs --account-sid, --auth-token and --admin-key of that instance.");
        }

        if (options.TargetUrl is null && options.Postgres is null)
        {
            throw new ArgumentException("No PostgreSQL: give --postgres or CALLNOTIFY_BENCH_POSTGRES (bench/run.sh starts a throwaway server itself).");
        }

        return options;
    }

    private static int Positive(string name, string value, int max, bool allowZero = false)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > max || (n == 0 && !allowZero))
        {
            throw new ArgumentException($"{name} must be a whole number from {(allowZero ? 0 : 1)} to {max}.");
        }

        return n;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
