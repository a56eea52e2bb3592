using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CallNotify.Bench;

/// <summary>
/// FCM on loopback, inside the driver: Google's OAuth token endpoint (<c>POST /token</c>, any assertion gets a token)
/// and the HTTP v1 send endpoint (<c>POST /v1/projects/{project}/messages:send</c>, always 200). Each message's arrival
/// time is reported against the request it carries (its <c>data.twi_message_id</c>), on the driver's clock.
/// </summary>
internal sealed class FakeFcmServer : IAsyncDisposable
{
    public const string ProjectId = "callnotify-bench";
    public const string ClientEmail = "bench@callnotify-bench.iam.gserviceaccount.com";

    private static readonly byte[] TokenKey = "\"token\":\""u8.ToArray();

    private readonly WebApplication _app;
    private long _tokenExchanges;
    private long _sends;

    private FakeFcmServer(WebApplication app)
    {
        _app = app;
    }

    public Uri BaseUrl { get; private set; } = null!;

    public long TokenExchanges => Interlocked.Read(ref _tokenExchanges);

    public long Sends => Interlocked.Read(ref _sends);

    /// <summary>Where messages are reported; set before the load starts.</summary>
    public (WebhookRequests Requests, RequestLog Log)? Sink { get; set; }

    public static async Task<FakeFcmServer> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeFcmServer(app);
        app.MapPost("/token", server.Token);
        app.MapPost("/v1/projects/{project}/messages:send", server.SendAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Writes a made-up service-account key file (a fresh RSA key) whose <c>token_uri</c> is this server's.</summary>
    public string WriteServiceAccount(string directory)
    {
        using var key = RSA.Create(2048);
        var fields = new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = ProjectId,
            ["private_key_id"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)),
            ["private_key"] = key.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = ClientEmail,
            ["client_id"] = "100000000000000000001",
            ["token_uri"] = new Uri(BaseUrl, "token").ToString(),
        };
        var path = Path.Combine(directory, "bench-fcm-key.json");
        File.WriteAllText(path, JsonSerializer.Serialize(fields));
        return path;
    }

    /// <summary>The registration token of the binding of <c>bench-user-k</c>.</summary>
    public static string RegistrationToken(string runTag, int k) =>
        "bench-" + runTag + "-" + k.ToString(CultureInfo.InvariantCulture) + ":APA91b" + new string('x', 140);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private IResult Token()
    {
        var n = Interlocked.Increment(ref _tokenExchanges);
        return Results.Json(new { access_token = $"ya29.bench-{n}", expires_in = 3600, token_type = "Bearer" });
    }

    private async Task<IResult> SendAsync(HttpContext context, string project)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var arrived = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _sends);
        if (Sink is var (requests, log))
        {
            var json = body.GetBuffer().AsSpan(0, (int)body.Length);
            if (requests.TryReadSeq(json, out var seq))
            {
                log.Delivered(seq, arrived, routedRight: RoutedRight(json, requests, seq), intact: true);
            }
            else
            {
                log.Stray();
            }
        }

        return Results.Json(new { name = $"projects/{project}/messages/{Sends}" });
    }

    /// <summary>The message went to the registration token of the callee's binding.</summary>
    private static bool RoutedRight(ReadOnlySpan<byte> json, WebhookRequests requests, long seq)
    {
        var at = json.IndexOf(TokenKey);
        if (at < 0)
        {
            return false;
        }

        var expected = Encoding.UTF8.GetBytes(RegistrationToken(requests.RunTag, requests.CalleeOf(seq)) + "\"");
        return json[(at + TokenKey.Length)..].StartsWith(expected);
    }
}
