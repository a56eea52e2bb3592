using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Infrastructure.Tests.Channels.Fcm;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// SPEC §7: Auth Tokens, admin keys, signing keys, WebSocket and bridge tokens never appear in a log line, and push
/// tokens at most as their last 6 characters — checked on everything logged (at Trace) during a full scenario.
/// The shipped appsettings.json keeps <c>Microsoft.AspNetCore.Hosting.Diagnostics</c> at Warning: its "Request starting"
/// line carries the query string, and WebSocket clients may put their token there.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
public sealed class LogRedactionTests(StoreKind store) : FakeFcmFixture(store)
{
    private const string FcmToken = "fcm-secret-registration-token-0123456789ABCDEF";
    private const string DeadFcmToken = "fcm-secret-dead-token-0123456789ABCDEFGHIJ";
    private const string ApnsToken = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

    private readonly CapturingLoggerProvider _logs = new();
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>(FcmSettings().Concat(AccessTokens.Settings()))
    {
        ["Logging:LogLevel:Default"] = "Trace",
        ["Logging:LogLevel:Microsoft"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Trace",
        ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace",
    };

    protected override Action<IServiceCollection>? Services => services => services.AddLogging(b => b.AddProvider(_logs));

    protected override async ValueTask AfterStopAsync()
    {
        await base.AfterStopAsync();
        _logs.Dispose();
    }

    [Test]
    public async Task NoSecretOrFullPushTokenIsEverLogged()
    {
        await RegisterAsync(identity: "bob", channel: "fcm", address: FcmToken);
        await RegisterAsync(identity: "bob", channel: "fcm", address: DeadFcmToken);
        await RegisterAsync(identity: "bob", channel: "apns-voip", address: ApnsToken);
        var wsToken = await IssueTokenAsync("bob");
        using var bob = new System.Net.WebSockets.ClientWebSocket();
        await bob.ConnectAsync(new UriBuilder(App.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(wsToken) }.Uri, CancellationToken.None);
        await App.WaitForSessionsAsync(CallNotifyApp.AccountSid, "bob", 1);
        Fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.OK, "{\"name\":\"projects/p/messages/1\"}"));
        Fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.NotFound, FakeFcmServer.Error(404, "NOT_FOUND", "gone", "UNREGISTERED")));
        var body = TwilioRequests.Body();
        using (await PostWebhookAsync(body))
        using (await PostWebhookAsync(body, authToken: "a-forged-token"))
        using (var wrongKey = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/bindings"))
        {
            wrongKey.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-admin-key-that-must-not-be-logged");
            using (await Anonymous.SendAsync(wrongKey))
            {
            }
        }

        // An app with its Access Token: registrations, a WebSocket with the token in the query, and a forged token.
        var accessToken = AccessTokens.Mint("carol");
        var forgedAccessToken = AccessTokens.Mint("carol", secret: "a-forged-secret-a-forged-secret-32");
        foreach (var token in new[] { accessToken, forgedAccessToken })
        {
            using var register = new HttpRequestMessage(HttpMethod.Post, "/v1/registrations") { Content = JsonContent.Create(new { channel = "fcm", address = FcmToken + "-carol" }) };
            register.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using (await Anonymous.SendAsync(register))
            {
            }
        }

        using (var carol = new System.Net.WebSockets.ClientWebSocket())
        {
            await carol.ConnectAsync(new UriBuilder(App.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(accessToken) }.Uri, CancellationToken.None);
            await App.WaitForSessionsAsync(CallNotifyApp.AccountSid, "carol", 1);
        }

        // Every line the background deliveries log is in before reading: their results are on record (the live one
        // and the dead token's), then the app stops, which waits for whatever still runs.
        var webhook = JsonDocument.Parse(body).RootElement;
        await Eventually.Until(
            () => GetNotificationAsync(webhook.GetProperty("twi_message_id").GetString()!),
            n => n.GetProperty("deliveries").EnumerateArray()
                .Where(d => d.GetProperty("channel").GetString() == "fcm")
                .Count(d => d.GetProperty("status").GetString() != "pending") == 2);
        await App.DisposeAsync();
        var bridgeToken = webhook.GetProperty("twi_bridge_token").GetString()!;
        var all = string.Join("\n", _logs.Lines);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_logs.Lines, Is.Not.Empty);
            foreach (var (what, secret) in new[]
            {
                ("the Auth Token", CallNotifyApp.AuthToken),
                ("the admin key", CallNotifyApp.AdminKey),
                ("a wrong admin key", "wrong-admin-key-that-must-not-be-logged"),
                ("the signing key", CallNotifyApp.SigningKey),
                ("a WebSocket token", wsToken),
                ("an Access Token", accessToken),
                ("an Access Token's signature", accessToken.Split('.')[2]),
                ("a forged Access Token's signature", forgedAccessToken.Split('.')[2]),
                ("an API key secret", AccessTokens.ApiKeySecret),
                ("the bridge token", bridgeToken),
                ("an FCM token", FcmToken),
                ("a dead FCM token", DeadFcmToken),
                ("an APNs token", ApnsToken),
                ("the body", body),
                ("the service account key", FcmAccount.PrivateKeyPem[30..90]),
            })
            {
                Assert.That(all, Does.Not.Contain(secret), $"{what} appears in the logs");
            }

            // Push tokens may be named by their last 6 characters, never by more.
            Assert.That(all, Does.Not.Contain(FcmToken[^7..]));
            Assert.That(all, Does.Not.Contain(DeadFcmToken[^7..]));
        }
    }
}
