using System.Diagnostics;

namespace CallNotify.Api.IntegrationTests.Scripts;

/// <summary>
/// What <c>scripts/test.sh</c> does when no PostgreSQL is reachable: install it (as root on Debian/Ubuntu) or stop,
/// saying why. Runs its decision on a pretend machine (<c>test-sh-postgres-setup.sh</c>): the detection functions,
/// <c>apt-get</c> and the cluster stop are stubs, so nothing is ever installed, started or stopped here.
/// </summary>
[TestFixture]
public sealed class TestScriptTests
{
    private const string NoBinariesMessage = "error: no PostgreSQL server binaries (initdb, pg_ctl) found, and no Docker engine answers.";
    private const string NoPostgresUserMessage = "error: running as root but there is no 'postgres' user to run PostgreSQL as";

    private static readonly string[] AptInstall =
    [
        "apt-get update (DEBIAN_FRONTEND=noninteractive)",
        "apt-get install -y postgresql (DEBIAN_FRONTEND=noninteractive)",
        "stop_distribution_clusters",
    ];

    [Test]
    public async Task InstallsPostgresWhenRootOnDebianWithoutServerBinaries()
    {
        var run = await RunAsync(root: true, debian: true, binaries: false, postgresUser: false);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.Calls, Is.EqualTo(AptInstall), "apt-get update, then install, then the distribution's cluster stopped");
            Assert.That(run.StdoutLines, Has.Length.EqualTo(1), "one line says so; apt-get's output stays in its log");
            Assert.That(run.Stdout, Does.Contain("apt-get install -y postgresql").And.Contain("no PostgreSQL server binaries"));
            Assert.That(run.Stderr, Is.Empty);
            Assert.That(run.FilesLeftInTemp, Is.Empty, "the apt-get log is removed after a successful install");
        }
    }

    [Test]
    public async Task InstallsPostgresWhenRootOnDebianWithBinariesButNoPostgresUser()
    {
        var run = await RunAsync(root: true, debian: true, binaries: true, postgresUser: false);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.Calls, Is.EqualTo(AptInstall));
            Assert.That(run.StdoutLines, Has.Length.EqualTo(1));
            Assert.That(run.Stdout, Does.Contain("no 'postgres' user"));
        }
    }

    [Test]
    public async Task RefusesWithTheMessageWhenNotRoot()
    {
        var run = await RunAsync(root: false, debian: true, binaries: false, postgresUser: false);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Calls, Is.Empty, "nothing installed");
            Assert.That(run.Stderr, Does.StartWith(NoBinariesMessage).And.Contain("CALLNOTIFY_TEST_POSTGRES"));
        }
    }

    [Test]
    public async Task RefusesWithTheMessageWhenNotDebian()
    {
        var run = await RunAsync(root: true, debian: false, binaries: false, postgresUser: false);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Calls, Is.Empty, "nothing installed");
            Assert.That(run.Stderr, Does.StartWith(NoBinariesMessage));
        }
    }

    [Test]
    public async Task RefusesWhenRootWithoutPostgresUserOffDebian()
    {
        var run = await RunAsync(root: true, debian: false, binaries: true, postgresUser: false);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Calls, Is.Empty, "nothing installed");
            Assert.That(run.Stderr, Does.StartWith(NoPostgresUserMessage));
        }
    }

    [TestCase(true, true, TestName = "InstallsNothingWhenRootHasBinariesAndThePostgresUser")]
    [TestCase(false, false, TestName = "InstallsNothingWhenNotRootAndBinariesArePresent")]
    public async Task InstallsNothingWhenTheServerCanRun(bool root, bool postgresUser)
    {
        var run = await RunAsync(root, debian: true, binaries: true, postgresUser);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.Calls, Is.Empty);
            Assert.That(run.Stdout, Is.Empty);
            Assert.That(run.Stderr, Is.Empty);
        }
    }

    [Test]
    public async Task PrintsAptGetsOutputAndStopsWhenTheInstallFails()
    {
        var run = await RunAsync(root: true, debian: true, binaries: false, postgresUser: false, aptFails: true);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Calls, Is.EqualTo(new[] { "apt-get update (DEBIAN_FRONTEND=noninteractive)" }), "no install after a failed update, no cluster stop");
            Assert.That(run.Stderr, Does.Contain("E: Unable to locate package postgresql").And.Contain("error: apt-get install -y postgresql failed"));
            Assert.That(run.FilesLeftInTemp, Has.Length.EqualTo(1), "the apt-get log is kept after a failure");
        }
    }

    private static async Task<ScriptRun> RunAsync(bool root, bool debian, bool binaries, bool postgresUser, bool aptFails = false)
    {
        var repository = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("callnotify-test-sh-");
        try
        {
            var temp = work.CreateSubdirectory("tmp");
            var calls = Path.Combine(work.FullName, "calls");
            var start = new ProcessStartInfo("bash", [Path.Combine(repository, "tests", "Api.IntegrationTests", "Scripts", "test-sh-postgres-setup.sh"), repository])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["TMPDIR"] = temp.FullName;
            start.Environment["CALLS"] = calls;
            start.Environment["FAKE_ROOT"] = Flag(root);
            start.Environment["FAKE_DEBIAN"] = Flag(debian);
            start.Environment["FAKE_BINARIES"] = Flag(binaries);
            start.Environment["FAKE_PG_USER"] = Flag(postgresUser);
            start.Environment["FAKE_APT_FAILS"] = Flag(aptFails);
            start.Environment.Remove("DEBIAN_FRONTEND");

            using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);

            var recorded = File.Exists(calls) ? await File.ReadAllLinesAsync(calls) : [];
            Assert.That(recorded, Has.None.Contains("unexpected real call"), "the check must never reach a real tool");
            return new ScriptRun(
                process.ExitCode,
                (await stdout).Trim(),
                (await stderr).Trim(),
                recorded,
                [.. temp.EnumerateFileSystemInfos().Select(f => f.Name)]);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string Flag(bool value) => value ? "1" : "0";

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "scripts", "test.sh")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("scripts/test.sh not found above the test directory.");
    }

    private sealed record ScriptRun(int ExitCode, string Stdout, string Stderr, string[] Calls, string[] FilesLeftInTemp)
    {
        public string[] StdoutLines => Stdout.Length == 0 ? [] : Stdout.Split('\n');

        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}\ncalls:\n{string.Join('\n', Calls)}";
    }
}
