using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Maintenance.SweepStore;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Api.IntegrationTests;

/// <summary>What happens over time and at shutdown: the sweeper, retention, going-away closes.</summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class LifecycleTests(StoreKind storeKind)
{
    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(storeKind);

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    public async Task TheSweeperExpiresBindingsPastTheirTtlAndPurgesOldNotifications()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new CallNotifyApp(_store, services: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        using var admin = app.CreateAdminClient();
        using var anonymous = app.CreateClient();
        using var register = await admin.PostAsJsonAsync("/admin/v1/bindings", new { accountSid = CallNotifyApp.AccountSid, identity = "erin", channel = "fcm", address = "erin-token" });
        var binding = await register.Content.ReadFromJsonAsync<JsonElement>();
        var messageId = TwilioRequests.NewMessageId();
        using (var request = TwilioRequests.SignedRequest(app.BaseAddress, TwilioRequests.Body(to: "client:erin", messageId: messageId)))
        {
            using var webhook = await anonymous.SendAsync(request);
            Assert.That(webhook.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "FCM is not configured: recorded, not delivered.");
        }

        time.Advance(TimeSpan.FromDays(366));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ISender>().Send(new SweepStoreCommand());
        }

        var reread = await admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}");
        using var notification = await admin.GetAsync($"/admin/v1/notifications/{messageId}?accountSid={CallNotifyApp.AccountSid}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reread.GetProperty("status").GetString(), Is.EqualTo("inactive"));
            Assert.That(reread.GetProperty("inactiveReason").GetString(), Is.EqualTo("expired"));
            Assert.That(notification.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }
    }

    [Test]
    public async Task StoppingTheServiceSendsLiveClientsAGoingAwayClose()
    {
        var app = new CallNotifyApp(_store);
        using var admin = app.CreateAdminClient();
        using var tokenResponse = await admin.PostAsJsonAsync("/admin/v1/websocket-tokens", new { accountSid = CallNotifyApp.AccountSid, identity = "frank" });
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(app.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(token) }.Uri, CancellationToken.None);
        var received = socket.ReceiveAsync(new byte[1024], CancellationToken.None);

        var stopping = Task.Run(async () => await app.DisposeAsync());
        var result = await received.WaitAsync(TimeSpan.FromSeconds(10));
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.MessageType, Is.EqualTo(WebSocketMessageType.Close));
            Assert.That(socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        }
    }
}
