using System.Net;
using System.Net.WebSockets;
using System.Text;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// Sign-out everywhere (<c>DELETE /admin/v1/bindings?accountSid=&amp;identity=</c>) ends the identity's live sessions
/// (1008 <c>signed-out</c>) and refuses the WebSocket tokens issued before it (SPEC §5, §8): real Kestrel, real
/// clients, both stores. Across instances: <see cref="MultiInstanceTests"/>.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
[TestFixture(StoreKind.Postgres)]
public sealed class SignOutTests(StoreKind store) : ApiFixture(store)
{
    [Test]
    public async Task SignOutClosesTheSessionsWith1008AndTheNextCallFindsNobody()
    {
        var identity = NewIdentity();
        using var first = await ConnectAsync(identity);
        using var second = await WebSocketClients.ConnectAsync(App, identity, expected: 2);

        using var signOut = await Admin.DeleteAsync($"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity={identity}");
        using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity));
        var closes = await Task.WhenAll(WebSocketClients.WaitForCloseAsync(first), WebSocketClients.WaitForCloseAsync(second));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(signOut.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the call right after the sign-out");
            Assert.That(closes, Has.All.EqualTo((WebSocketCloseStatus.PolicyViolation, "signed-out")));
        }
    }

    [Test]
    public async Task ATokenIssuedBeforeTheSignOutIsRefusedAndANewOneIsAccepted()
    {
        var identity = NewIdentity();
        var oldToken = await IssueTokenAsync(identity);

        using (var signOut = await Admin.DeleteAsync($"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity={identity}"))
        {
            Assert.That(signOut.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var refused = await WebSocketClients.UpgradeStatusAsync(App, oldToken);
        var newToken = await IssueTokenAsync(identity);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(WebSocketUri(newToken), CancellationToken.None);
        await App.WaitForSessionsAsync(CallNotifyApp.AccountSid, identity, 1);
        var body = TwilioRequests.Body(to: "client:" + identity);
        using var response = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(client, TimeSpan.FromSeconds(5));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(refused, Is.EqualTo(HttpStatusCode.Unauthorized), "the token from before");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the identity connected again with a new token");
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
        }
    }

    [Test]
    public async Task SignOutLeavesOtherIdentitiesAndAccountsAlone()
    {
        var identity = NewIdentity();
        using var other = await ConnectAsync(NewIdentity());
        using var sameNameOtherAccount = await ConnectAsync(identity, CallNotifyApp.OtherAccountSid);
        using var signedOut = await ConnectAsync(identity);

        using (var signOut = await Admin.DeleteAsync($"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity={identity}"))
        {
            Assert.That(signOut.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var closed = await WebSocketClients.WaitForCloseAsync(signedOut);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(closed, Is.EqualTo((WebSocketCloseStatus.PolicyViolation, "signed-out")));
            Assert.That(other.State, Is.EqualTo(WebSocketState.Open));
            Assert.That(sameNameOtherAccount.State, Is.EqualTo(WebSocketState.Open));
        }
    }

    [Test]
    public async Task DeletingOnePushBindingClosesNoSession()
    {
        var identity = NewIdentity();
        var binding = await RegisterAsync(identity);
        using var client = await ConnectAsync(identity);

        using (var delete = await Admin.DeleteAsync($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}"))
        {
            Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        var body = TwilioRequests.Body(to: "client:" + identity);
        using var response = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(client, TimeSpan.FromSeconds(5));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
        }
    }

    private Uri WebSocketUri(string token) =>
        new UriBuilder(App.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(token) }.Uri;

    private static string NewIdentity() => "signout-" + Guid.NewGuid().ToString("N")[..10];
}
