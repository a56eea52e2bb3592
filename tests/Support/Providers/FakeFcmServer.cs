using System.Buffers.Text;
using System.Collections.Concurrent;
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

namespace CallNotify.Infrastructure.Tests.Channels.Fcm;

/// <summary>
/// A real HTTP server on loopback playing Google's OAuth token endpoint and the FCM HTTP v1 send endpoint.
/// The token endpoint checks the JWT-bearer grant for real (RS256 signature with the service account's public key,
/// issuer, audience, scope); the send endpoint checks the bearer token, records each request and answers from a script.
/// </summary>
public sealed class FakeFcmServer : IAsyncDisposable
{
    public const string JwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    public const string FirebaseScope = "https://www.googleapis.com/auth/firebase.messaging";

    /// <summary>
    /// The audience Google's token endpoint demands ("always https://oauth2.googleapis.com/token"), and the one
    /// Google.Apis.Auth 1.78 signs whatever the key file's token_uri.
    /// </summary>
    public const string GoogleTokenAudience = "https://oauth2.googleapis.com/token";

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, bool> _issued = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sendArrivals = new(0);
    private int _tokenExchanges;

    private FakeFcmServer(WebApplication app, ServiceAccount account)
    {
        _app = app;
        Account = account;
    }

    /// <summary>Whose assertions the token endpoint accepts.</summary>
    public ServiceAccount Account { get; }

    public Uri BaseUrl { get; private set; } = null!;

    public string TokenUri => new Uri(BaseUrl, "token").ToString();

    public int TokenExchanges => Volatile.Read(ref _tokenExchanges);

    /// <summary>The <c>aud</c> an assertion must carry; <see cref="GoogleTokenAudience"/> as at Google.</summary>
    public string ExpectedAudience { get; set; } = GoogleTokenAudience;

    /// <summary>The claims of every assertion the token endpoint received, signed or not.</summary>
    public ConcurrentQueue<AssertionClaims> Assertions { get; } = new();

    /// <summary>Why the token endpoint refused assertions; a test that expects none checks it is empty.</summary>
    public ConcurrentQueue<string> TokenRefusals { get; } = new();

    /// <summary>When set, the token endpoint answers this status (with an OAuth error body) instead of a token.</summary>
    public HttpStatusCode? TokenStatus { get; set; }

    public ConcurrentQueue<RecordedSend> Sends { get; } = new();

    /// <summary>Answers for the next sends, in order; when empty a send is accepted.</summary>
    public ConcurrentQueue<ScriptedAnswer> Script { get; } = new();

    /// <summary>An answer by registration token (null: the script's, then 200), asked before the script.</summary>
    public Func<string, ScriptedAnswer?>? AnswerFor { get; set; }

    public static async Task<FakeFcmServer> StartAsync(ServiceAccount account)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeFcmServer(app, account);
        app.MapPost("/token", (Func<HttpContext, Task<IResult>>)server.TokenAsync);
        app.MapPost("/v1/projects/{project}/messages:send", server.SendAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUrl = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>Waits until the send endpoint has received one more request.</summary>
    public Task SendArrivedAsync() => _sendArrivals.WaitAsync().WaitAsync(TimeSpan.FromSeconds(10));

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (TokenStatus is { } status)
        {
            return Results.Json(new { error = "backend_error", error_description = "scripted" }, statusCode: (int)status);
        }

        var refusal = form["grant_type"] != JwtBearerGrant
            ? $"grant_type was '{form["grant_type"]}'"
            : CheckAssertion(form["assertion"].ToString());
        if (refusal is not null)
        {
            TokenRefusals.Enqueue(refusal);
            return Results.Json(new { error = "invalid_grant", error_description = refusal }, statusCode: 400);
        }

        var n = Interlocked.Increment(ref _tokenExchanges);
        var accessToken = $"ya29.fake-access-token-{n}-{Guid.NewGuid():N}";
        _issued[accessToken] = true;
        return Results.Json(new { access_token = accessToken, expires_in = 3600, token_type = "Bearer" });
    }

    private string? CheckAssertion(string assertion)
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3)
        {
            return "the assertion is not a JWS compact serialisation";
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            if (header.RootElement.GetProperty("alg").GetString() != "RS256")
            {
                return "alg is not RS256";
            }

            var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var claims = payload.RootElement;
            var iss = claims.GetProperty("iss").GetString();
            var aud = claims.GetProperty("aud").GetString();
            var scope = claims.GetProperty("scope").GetString() ?? string.Empty;
            Assertions.Enqueue(new AssertionClaims(iss, aud, scope, header.RootElement.TryGetProperty("kid", out var kid) ? kid.GetString() : null));
            if (!Account.PublicKey.VerifyData(signed, Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return "the signature does not verify with the service account's public key";
            }

            if (iss != ServiceAccount.ClientEmail)
            {
                return $"iss is '{iss}'";
            }

            if (aud != ExpectedAudience)
            {
                return $"aud is '{aud}', not '{ExpectedAudience}'";
            }

            if (!scope.Split(' ').Contains(FirebaseScope))
            {
                return "scope lacks firebase.messaging";
            }

            if (claims.GetProperty("exp").GetInt64() <= claims.GetProperty("iat").GetInt64())
            {
                return "exp is not after iat";
            }

            return null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return $"the assertion is malformed: {ex.Message}";
        }
    }

    private static string? TokenOf(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("message", out var message) && message.TryGetProperty("token", out var token) ? token.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task SendAsync(HttpContext context, string project)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var authorization = context.Request.Headers.Authorization.ToString();
        Sends.Enqueue(new RecordedSend(project, authorization, context.Request.ContentType, body.ToArray()));
        _sendArrivals.Release();

        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_issued.ContainsKey(authorization["Bearer ".Length..]))
        {
            await Answer(context, new ScriptedAnswer(HttpStatusCode.Unauthorized, Error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")));
            return;
        }

        var byToken = AnswerFor is { } answerFor && TokenOf(body.ToArray()) is { } token ? answerFor(token) : null;
        if (byToken is null && !Script.TryDequeue(out byToken))
        {
            await Answer(context, new ScriptedAnswer(HttpStatusCode.OK, $$"""{"name":"projects/{{project}}/messages/0:1700000000000000%0"}"""));
            return;
        }

        var answer = byToken;
        if (answer.Hang)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, both.Token);
            }
            catch (OperationCanceledException)
            {
                // The client gave up, or the fake is stopping.
            }

            return;
        }

        await Answer(context, answer);
    }

    private static async Task Answer(HttpContext context, ScriptedAnswer answer)
    {
        context.Response.StatusCode = (int)answer.Status;
        if (answer.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        if (answer.Body is { } body)
        {
            context.Response.ContentType = "application/json; charset=UTF-8";
            await context.Response.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>An FCM error body as Google sends it.</summary>
    public static string Error(int code, string status, string message, string? fcmErrorCode = null, string? violatedField = null)
    {
        var details = new List<object>();
        if (fcmErrorCode is not null)
        {
            details.Add(new Dictionary<string, object> { ["@type"] = "type.googleapis.com/google.firebase.fcm.v1.FcmError", ["errorCode"] = fcmErrorCode });
        }

        if (violatedField is not null)
        {
            details.Add(new Dictionary<string, object>
            {
                ["@type"] = "type.googleapis.com/google.rpc.BadRequest",
                ["fieldViolations"] = new[] { new { field = violatedField, description = message } },
            });
        }

        return JsonSerializer.Serialize(new { error = new { code, message, status, details } });
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await _app.DisposeAsync();
        _stopping.Dispose();
        _sendArrivals.Dispose();
    }
}

public sealed record AssertionClaims(string? Issuer, string? Audience, string Scope, string? KeyId);

public sealed record RecordedSend(string Project, string Authorization, string? ContentType, byte[] Body)
{
    public JsonDocument Json() => JsonDocument.Parse(Body);
}

/// <param name="Hang">Answer nothing until the client gives up.</param>
public sealed record ScriptedAnswer(HttpStatusCode Status, string? Body = null, string? RetryAfter = null, bool Hang = false)
{
    public static ScriptedAnswer NoAnswer { get; } = new(HttpStatusCode.OK, Hang: true);
}
