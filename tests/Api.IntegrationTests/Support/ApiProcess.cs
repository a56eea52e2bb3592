using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>
/// The Api as a separate OS process (the built CallNotify.Api.dll beside the tests), on a free loopback port, with the
/// same test settings as <see cref="CallNotifyApp"/> — so a test can SIGKILL it.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ApiProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<ApiProcess> StartAsync(TestStore store)
    {
        var port = FreePort();
        var directory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet", [Path.Combine(directory, "CallNotify.Api.dll"), "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        foreach (var (key, value) in CallNotifyApp.TestSettings(store))
        {
            if (key != "urls")
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The Api process did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var api = new ApiProcess(process, new Uri($"http://127.0.0.1:{port}/"));

        using var http = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.That(process.HasExited, Is.False, "The Api process exited during start-up.");
            try
            {
                using var ready = await http.GetAsync("/readyz");
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return api;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "The Api process never became ready.");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
