using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// Twilio retries and load balancers spread them: the same notification reaching two instances at once is delivered
/// once per client, and concurrent registrations of one device give one binding — the database's unique constraints
/// decide.
/// </summary>
public sealed class ExactlyOnceTests
{
    private TestStore _store = null!;
    private CallNotifyApp _a = null!;
    private CallNotifyApp _b = null!;

    [OneTimeSetUp]
    public async Task StartTwoInstancesAsync()
    {
        _store = await TestStore.CreateAsync(StoreKind.Postgres);
        _a = new CallNotifyApp(_store);
        _b = new CallNotifyApp(_store);
        _a.StartServer();
        _b.StartServer();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Test]
    public async Task AStormOfOneMessageIdAcrossTwoInstancesDeliversOnceAndAnswersAlike()
    {
        var identity = "storm-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await ConnectAsync(_b, identity);
        var body = Encoding.UTF8.GetBytes(TwilioRequests.Body(to: "client:" + identity, messageId: TwilioRequests.NewMessageId()));
        using var clientA = _a.CreateClient();
        using var clientB = _b.CreateClient();

        var posts = Enumerable.Range(0, 16).Select(async i =>
        {
            var app = i % 2 == 0 ? _a : _b;
            var http = i % 2 == 0 ? clientA : clientB;
            using var request = TwilioRequests.SignedRequest(app.BaseAddress, body);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(posts).WaitAsync(TimeSpan.FromSeconds(30));

        var frames = 0;
        while (await ReceiveFrameAsync(client, TimeSpan.FromMilliseconds(frames == 0 ? 5000 : 700)) is not null)
        {
            frames++;
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(frames, Is.EqualTo(1), "exactly one frame for one notification");
        }
    }

    [Test]
    public async Task ConcurrentRegistrationsOfOneDeviceOnTwoInstancesGiveOneBindingAndNo5xx()
    {
        using var adminA = _a.CreateAdminClient();
        using var adminB = _b.CreateAdminClient();
        var address = "race-token-" + Guid.NewGuid().ToString("N");

        var registrations = Enumerable.Range(0, 20).Select(async i =>
        {
            var http = i % 2 == 0 ? adminA : adminB;
            using var response = await http.PostAsJsonAsync("/admin/v1/bindings", new
            {
                accountSid = CallNotifyApp.AccountSid,
                identity = "racer-" + (i % 3),
                channel = "fcm",
                address,
            });
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        });
        var results = await Task.WhenAll(registrations).WaitAsync(TimeSpan.FromSeconds(30));
        var listed = await adminA.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings?channel=fcm&pageSize=200");
        var withAddress = listed.GetProperty("bindings").EnumerateArray().Where(b => b.GetProperty("address").GetString() == address).ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(results.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.Created).Or.EqualTo(HttpStatusCode.OK));
            Assert.That(results.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(1));
            Assert.That(results.Select(r => r.Item2).Distinct().Count(), Is.EqualTo(1), "every registration names the one binding");
            Assert.That(withAddress, Has.Count.EqualTo(1));
        }
    }

    private static Task<ClientWebSocket> ConnectAsync(CallNotifyApp app, string identity) => WebSocketClients.ConnectAsync(app, identity);

    private static Task<byte[]?> ReceiveFrameAsync(ClientWebSocket socket, TimeSpan wait) => WebSocketClients.ReceiveFrameAsync(socket, wait);
}
