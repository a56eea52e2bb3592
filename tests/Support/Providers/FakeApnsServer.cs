using System.Buffers.Text;
using System.Collections.Concurrent;
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
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Infrastructure.Tests.Channels.Apns.Support;

public enum ApnsEndpointKind
{
    Production,
    Sandbox,
}

/// <summary>One request as the fake APNs saw it, after checking it the way APNs does.</summary>
public sealed record ApnsRequest(
    ApnsEndpointKind Endpoint,
    string Protocol,
    string DeviceToken,
    string? Jwt,
    long? Iat,
    string? PushType,
    string? Topic,
    string? Priority,
    string? Expiration,
    string? ApnsId,
    byte[] Body);

/// <summary>What the fake answers: a status, Apple's <c>reason</c> and an optional <c>Retry-After</c>.</summary>
public sealed record FakeReply(int Status, string? Reason = null, string? RetryAfter = null)
{
    public static readonly FakeReply Ok = new(200);
}

/// <summary>
/// A fake APNs: real Kestrel on loopback speaking HTTP/2 over TLS only, on two ports (production and sandbox). It
/// verifies every request as APNs would (HTTP/2, the ES256 provider token against the test key's public half, the
/// apns-* headers), records it, and answers what the test scripts. Anything wrong with a request is also written to
/// <see cref="Problems"/>, which a test expects to stay empty.
/// </summary>
public sealed class FakeApnsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApnsTestKeys _keys;
    private int _productionPort;
    private CancellationTokenSource _release = new();

    private FakeApnsServer(WebApplication app, ApnsTestKeys keys)
    {
        _app = app;
        _keys = keys;
    }

    public Uri ProductionEndpoint { get; private set; } = null!;

    public Uri SandboxEndpoint { get; private set; } = null!;

    public ConcurrentQueue<ApnsRequest> Requests { get; } = new();

    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>The scripted answer to a request that passed the checks.</summary>
    public Func<ApnsRequest, CancellationToken, Task<FakeReply>> Respond { get; set; } = AlwaysOk;

    public static async Task<FakeApnsServer> StartAsync(ApnsTestKeys keys)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            for (var i = 0; i < 2; i++)
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    listen.UseHttps(keys.TlsCertificate);
                });
            }
        });

        var app = builder.Build();
        var server = new FakeApnsServer(app, keys);
        app.Run(server.HandleAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(a => new Uri(a))
            .ToList();
        server._productionPort = addresses[0].Port;
        server.ProductionEndpoint = addresses[0];
        server.SandboxEndpoint = addresses[1];
        return server;
    }

    /// <summary>Ends every request a scripted answer is still holding, so the client's attempts end too.</summary>
    public void ReleaseHeldRequests()
    {
        // Not disposed: a request arriving right now may still be linking to it.
        Interlocked.Exchange(ref _release, new CancellationTokenSource()).Cancel();
    }

    public void Reset()
    {
        Requests.Clear();
        Problems.Clear();
        Respond = AlwaysOk;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        _release.Dispose();
    }

    private static Task<FakeReply> AlwaysOk(ApnsRequest request, CancellationToken cancellationToken) => Task.FromResult(FakeReply.Ok);

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);

        var problems = new List<string>();
        var request = Inspect(context, body.ToArray(), problems);
        Requests.Enqueue(request);
        foreach (var problem in problems)
        {
            Problems.Enqueue(problem);
        }

        using var held = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _release.Token);
        var reply = Refusal(request, problems) ?? await Respond(request, held.Token);
        context.Response.StatusCode = reply.Status;
        context.Response.Headers["apns-id"] = request.ApnsId ?? Guid.NewGuid().ToString("D");
        if (reply.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = reply.RetryAfter;
        }

        if (reply.Reason is not null)
        {
            context.Response.ContentType = "application/json";
            var json = reply.Status == 410
                ? $"{{\"reason\":{JsonSerializer.Serialize(reply.Reason)},\"timestamp\":1700000000000}}"
                : $"{{\"reason\":{JsonSerializer.Serialize(reply.Reason)}}}";
            await context.Response.WriteAsync(json, context.RequestAborted);
        }
    }

    private ApnsRequest Inspect(HttpContext context, byte[] body, List<string> problems)
    {
        var http = context.Request;
        if (http.Protocol != HttpProtocol.Http2)
        {
            problems.Add($"protocol {http.Protocol}, not HTTP/2");
        }

        if (http.Method != HttpMethods.Post)
        {
            problems.Add($"method {http.Method}, not POST");
        }

        const string prefix = "/3/device/";
        var path = http.Path.Value ?? string.Empty;
        var deviceToken = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : string.Empty;
        if (deviceToken.Length == 0 || !deviceToken.All(char.IsAsciiHexDigit))
        {
            problems.Add($"path {path} is not /3/device/<hex token>");
        }

        string? jwt = null;
        long? iat = null;
        var authorization = http.Headers.Authorization.ToString();
        if (!authorization.StartsWith("bearer ", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add("no bearer authorization");
        }
        else
        {
            jwt = authorization["bearer ".Length..];
            iat = VerifyJwt(jwt, problems);
        }

        var pushType = Header(http, "apns-push-type");
        var topic = Header(http, "apns-topic");
        var priority = Header(http, "apns-priority");
        var expiration = Header(http, "apns-expiration");
        if (pushType is not ("voip" or "alert"))
        {
            problems.Add($"apns-push-type '{pushType}'");
        }

        if (string.IsNullOrEmpty(topic) || (pushType == "voip") != topic.EndsWith(".voip", StringComparison.Ordinal))
        {
            problems.Add($"apns-topic '{topic}' does not suit push type '{pushType}'");
        }

        if (priority != "10")
        {
            problems.Add($"apns-priority '{priority}'");
        }

        if (!long.TryParse(expiration, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            problems.Add($"apns-expiration '{expiration}' is not unix seconds");
        }

        if (!JsonIsObject(body))
        {
            problems.Add("the payload is not a JSON object");
        }

        return new ApnsRequest(
            context.Connection.LocalPort == _productionPort ? ApnsEndpointKind.Production : ApnsEndpointKind.Sandbox,
            http.Protocol,
            deviceToken,
            jwt,
            iat,
            pushType,
            topic,
            priority,
            expiration,
            Header(http, "apns-id"),
            body);
    }

    /// <summary>APNs' own refusals of a malformed request, before any scripted answer.</summary>
    private static FakeReply? Refusal(ApnsRequest request, List<string> problems)
    {
        if (problems.Count == 0)
        {
            return null;
        }

        return request.Iat is null ? new FakeReply(403, "InvalidProviderToken") : new FakeReply(400, "BadRequest");
    }

    /// <summary>Checks an ES256 provider token the way APNs does; returns its <c>iat</c> when it is valid.</summary>
    private long? VerifyJwt(string jwt, List<string> problems)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            problems.Add("the provider token is not a JWS compact serialisation");
            return null;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var signature = Base64Url.DecodeFromChars(parts[2]);
            var ok = true;
            if (String(header, "alg") != "ES256" || String(header, "kid") != ApnsTestKeys.KeyId)
            {
                problems.Add($"JWT header {header.RootElement.GetRawText()}");
                ok = false;
            }

            if (String(claims, "iss") != ApnsTestKeys.TeamId
                || !claims.RootElement.TryGetProperty("iat", out var iatElement)
                || !iatElement.TryGetInt64(out var iat))
            {
                problems.Add($"JWT claims {claims.RootElement.GetRawText()}");
                return null;
            }

            var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            if (signature.Length != 64
                || !_keys.VerificationKey.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                problems.Add("the JWT signature does not verify with the team's key");
                ok = false;
            }

            return ok ? iat : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            problems.Add($"the provider token does not parse: {ex.Message}");
            return null;
        }
    }

    private static string? String(JsonDocument document, string name) =>
        document.RootElement.ValueKind == JsonValueKind.Object
        && document.RootElement.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;

    private static bool JsonIsObject(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
