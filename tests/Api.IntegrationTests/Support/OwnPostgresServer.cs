using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>
/// A PostgreSQL server of one test's own, started from the installed server binaries (as <c>scripts/test.sh</c> starts
/// the shared one), so the test may freeze it (SIGSTOP) without touching anyone else's. Without the binaries the test
/// fails and says so: it is never skipped.
/// </summary>
public sealed class OwnPostgresServer : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _binDirectory;
    private bool _frozen;

    private OwnPostgresServer(string root, string binDirectory, int port)
    {
        _root = root;
        _binDirectory = binDirectory;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    public string ConnectionString { get; }

    private string DataDirectory => Path.Combine(_root, "data");

    private static bool IsRoot => Environment.UserName == "root";

    public static async Task<OwnPostgresServer> StartAsync()
    {
        var binDirectory = FindBinDirectory();
        if (binDirectory is null)
        {
            Assert.Fail("No PostgreSQL server binaries (initdb, pg_ctl) are installed; this test starts a server of its own. " +
                "Install them (Debian/Ubuntu: apt-get install -y postgresql) or run the tests with scripts/test.sh.");
        }

        var root = Directory.CreateTempSubdirectory("callnotify-own-pg-").FullName;
        if (IsRoot)
        {
            await RunAsync("chown", ["postgres:", root]);
        }

        var server = new OwnPostgresServer(root, binDirectory!, FreePort());
        await server.AsPostgresAsync(
            Path.Combine(binDirectory!, "initdb"),
            ["-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
        var port = new Npgsql.NpgsqlConnectionStringBuilder(server.ConnectionString).Port;
        await server.AsPostgresAsync(
            Path.Combine(binDirectory!, "pg_ctl"),
            ["-D", server.DataDirectory, "-l", Path.Combine(root, "postgres.log"), "-w", "-t", "60", "-o",
             $"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off -c max_connections=100", "start"]);
        return server;
    }

    /// <summary>SIGSTOP to the server and every backend: connections stay open, nothing answers, nothing is refused.</summary>
    public async Task FreezeAsync()
    {
        var postmaster = PostmasterId();
        await RunAsync("kill", ["-STOP", postmaster.ToString(CultureInfo.InvariantCulture)]);
        var children = ChildrenOf(postmaster);
        if (children.Count > 0)
        {
            await RunAsync("kill", ["-STOP", .. children.Select(c => c.ToString(CultureInfo.InvariantCulture))]);
        }

        _frozen = true;
    }

    /// <summary>SIGCONT, backends first.</summary>
    public async Task ThawAsync()
    {
        var postmaster = PostmasterId();
        var children = ChildrenOf(postmaster);
        if (children.Count > 0)
        {
            await RunAsync("kill", ["-CONT", .. children.Select(c => c.ToString(CultureInfo.InvariantCulture))]);
        }

        await RunAsync("kill", ["-CONT", postmaster.ToString(CultureInfo.InvariantCulture)]);
        _frozen = false;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_frozen)
            {
                await ThawAsync();
            }

            Npgsql.NpgsqlConnection.ClearAllPools();
            await AsPostgresAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private int PostmasterId() =>
        int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    /// <summary>The processes whose parent is <paramref name="parent"/>, from /proc.</summary>
    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ...", and comm may hold spaces or parentheses.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended meanwhile.
            }
        }

        return children;
    }

    private static string? FindBinDirectory()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
                .Select(d => Path.Combine(d, "bin"))
            : [];
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries);
        return candidates.Concat(onPath).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    private Task AsPostgresAsync(string program, string[] arguments) =>
        IsRoot ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments], _root) : RunAsync(program, arguments, _root);

    private static async Task RunAsync(string program, string[] arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            Assert.Fail($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
