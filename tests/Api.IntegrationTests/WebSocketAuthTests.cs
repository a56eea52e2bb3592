using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

[TestFixture(StoreKind.Sqlite)]
public sealed class WebSocketAuthTests(StoreKind store) : ApiFixture(store)
{
    [TestCase(null)]
    [TestCase("forged.token")]
    public async Task RefusesTheUpgradeWith401ForAMissingOrForgedToken(string? token)
    {
        var status = await WebSocketClients.UpgradeStatusAsync(App, token);

        Assert.That(status, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task RefusesATokenWhoseMacWasChanged()
    {
        var token = await IssueTokenAsync();
        var forged = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];

        Assert.That(await WebSocketClients.UpgradeStatusAsync(App, forged), Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task AcceptsTheTokenAsABearerHeaderToo()
    {
        var token = await IssueTokenAsync();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        var uri = new UriBuilder(App.BaseAddress) { Scheme = "ws", Path = "/v1/websocket" }.Uri;

        await socket.ConnectAsync(uri, CancellationToken.None);

        Assert.That(socket.State, Is.EqualTo(WebSocketState.Open));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Test]
    public async Task IssuesTokensThatExpireAfterTheTtlAsked()
    {
        using var response = await Admin.PostAsJsonAsync("/admin/v1/websocket-tokens", new { accountSid = CallNotifyApp.AccountSid, identity = "bob", ttlSeconds = 120 });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(body.GetProperty("token").GetString(), Is.Not.Empty);
            Assert.That(body.GetProperty("expiresAt").GetDateTimeOffset(), Is.EqualTo(DateTimeOffset.UtcNow.AddSeconds(120)).Within(TimeSpan.FromSeconds(10)));
        }
    }

    [TestCase(0)]
    [TestCase(86401)]
    public async Task RefusesATtlOutsideOneSecondToOneDay(int ttlSeconds)
    {
        using var response = await Admin.PostAsJsonAsync("/admin/v1/websocket-tokens", new { accountSid = CallNotifyApp.AccountSid, identity = "bob", ttlSeconds });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task TokensNeedTheAdminKey()
    {
        using var response = await Anonymous.PostAsJsonAsync("/admin/v1/websocket-tokens", new { accountSid = CallNotifyApp.AccountSid, identity = "bob" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }
}
