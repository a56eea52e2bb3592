using System.Net.Sockets;
using System.Text;
using Testcontainers.PostgreSql;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// The PostgreSQL server the integration tests run against: the one named by <c>CALLNOTIFY_TEST_POSTGRES</c> (what
/// <c>scripts/test.sh</c> starts when nothing else is given), else a Testcontainers container when a Docker engine
/// answers. With neither, the tests fail with a message saying what to do: they are never skipped.
/// </summary>
[SetUpFixture]
public sealed class PostgresServer
{
    public const string EnvironmentVariable = "CALLNOTIFY_TEST_POSTGRES";

    private static PostgreSqlContainer? _container;
    private static string? _connectionString;

    /// <summary>A connection string for a superuser-capable role on the server's maintenance database.</summary>
    public static string ConnectionString =>
        _connectionString ?? throw new InvalidOperationException(
            $"No PostgreSQL server for the integration tests. Run them with scripts/test.sh (it starts one), set {EnvironmentVariable} " +
            "to an Npgsql connection string, or start a Docker engine for Testcontainers.");

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            _connectionString = configured;
            return;
        }

        if (await DockerEngineAnswersAsync())
        {
            _container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await _container.StartAsync();
            _connectionString = _container.GetConnectionString();
        }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    private static async Task<bool> DockerEngineAnswersAsync()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")))
        {
            return true;
        }

        const string socketPath = "/var/run/docker.sock";
        if (!File.Exists(socketPath))
        {
            return false;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), timeout.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes("GET /_ping HTTP/1.0\r\n\r\n"), timeout.Token);
            var buffer = new byte[256];
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).Contains(" 200 ", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
