using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.WebSockets;
using CallNotify.Infrastructure.WebSockets.Instances;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// SPEC §1 "Several instances": two hosts on one PostgreSQL database (each its own Kestrel on loopback) route
/// notifications to each other's WebSocket clients and count each other's sessions.
/// </summary>
public sealed class MultiInstanceTests
{
    private static readonly TimeSpan FrameWait = TimeSpan.FromSeconds(5);

    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(StoreKind.Postgres);

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    public async Task AClientOnInstanceBReceivesTheExactBodyPostedToInstanceA()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var identity = NewIdentity();
        using var client = await ConnectAsync(b, identity, countedBy: a);
        var messageId = TwilioRequests.NewMessageId();
        var body = TwilioRequests.Body(to: "client:" + identity, messageId: messageId) + "\n";

        using var response = await PostWebhookAsync(a, body);
        var frame = await ReceiveFrameAsync(client, FrameWait);

        // 200 is answered at the accepted send; the result's record follows (ADR 0019).
        var delivery = await Eventually.Until(
            async () => (await GetNotificationAsync(a, messageId)).GetProperty("deliveries")[0],
            d => d.GetProperty("status").GetString() != "pending");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
            Assert.That(delivery.GetProperty("channel").GetString(), Is.EqualTo("websocket"));
            Assert.That(delivery.GetProperty("status").GetString(), Is.EqualTo("accepted"));
        }
    }

    [Test]
    public async Task SessionsOfOneIdentityOnBothInstancesBothReceiveIt()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var identity = NewIdentity();
        using var onA = await ConnectAsync(a, identity, countedBy: a);
        using var onB = await ConnectAsync(b, identity, countedBy: a, expected: 2);
        var body = TwilioRequests.Body(to: "client:" + identity);

        using var response = await PostWebhookAsync(a, body);
        var frames = await Task.WhenAll(ReceiveFrameAsync(onA, FrameWait), ReceiveFrameAsync(onB, FrameWait));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frames[0], Is.EqualTo(Encoding.UTF8.GetBytes(body)), "the client on A");
            Assert.That(frames[1], Is.EqualTo(Encoding.UTF8.GetBytes(body)), "the client on B");
        }
    }

    [Test]
    public async Task TheRelayListenerReconnectsAfterItsConnectionIsKilled()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var identity = NewIdentity();
        using var client = await ConnectAsync(b, identity, countedBy: a);
        var listen = $"LISTEN \"{PostgresSessionRelay.ChannelOf(b.Services.GetRequiredService<ServiceInstance>().Id)}\"";
        var before = await ListenerPidAsync(listen, notPid: null);

        await using (var connection = new NpgsqlConnection(_store.ConnectionString))
        {
            await connection.OpenAsync();
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", connection);
            terminate.Parameters.AddWithValue("pid", before);
            await terminate.ExecuteNonQueryAsync();
        }

        await ListenerPidAsync(listen, notPid: before);
        var body = TwilioRequests.Body(to: "client:" + identity);
        using var response = await PostWebhookAsync(a, body);
        var frame = await ReceiveFrameAsync(client, FrameWait);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
        }
    }

    [Test]
    public async Task AWebhookToInstanceACountsTheSessionOnInstanceB()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var identity = NewIdentity();
        using var client = await ConnectAsync(b, identity, countedBy: a);

        var seenByA = await a.Services.GetRequiredService<ILiveSessionRegistry>()
            .FindAsync(AccountSid.Parse(CallNotifyApp.AccountSid), ClientIdentity.Parse(identity), CancellationToken.None);
        using var response = await PostWebhookAsync(a, TwilioRequests.Body(to: "client:" + identity));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(seenByA.Select(s => s.InstanceId), Is.EqualTo(new[] { b.Services.GetRequiredService<ServiceInstance>().Id }));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "no binding at all: only B's session makes it 200");
        }
    }

    [Test]
    public async Task SessionsOfAnInstanceThatStoppedNoLongerCount()
    {
        await using var a = new CallNotifyApp(_store);
        var b = new CallNotifyApp(_store);
        var identity = NewIdentity();
        using var client = await ConnectAsync(b, identity, countedBy: a);
        var instanceB = b.Services.GetRequiredService<ServiceInstance>().Id;

        await b.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        var seenByA = await a.Services.GetRequiredService<ILiveSessionRegistry>()
            .FindAsync(AccountSid.Parse(CallNotifyApp.AccountSid), ClientIdentity.Parse(identity), CancellationToken.None);
        using var response = await PostWebhookAsync(a, TwilioRequests.Body(to: "client:" + identity));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(seenByA, Is.Empty, "a graceful stop removes the instance's sessions at once");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await CountRowsAsync("SELECT count(*) FROM instances WHERE id = @id", instanceB), Is.Zero, "B left the store");
            Assert.That(await CountRowsAsync("SELECT count(*) FROM live_sessions WHERE instance_id = @id", instanceB), Is.Zero, "B's sessions left with it");
        }
    }

    [Test]
    public async Task ASessionOfAnInstanceWhoseHeartbeatStoppedDoesNotCount()
    {
        await using var a = new CallNotifyApp(_store);
        var identity = NewIdentity();
        var deadInstance = Ids.New(Ids.InstancePrefix, DateTimeOffset.UtcNow);
        await InsertPresenceAsync(deadInstance, heartbeatAgeSeconds: 30, identity);

        using var response = await PostWebhookAsync(a, TwilioRequests.Body(to: "client:" + identity));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task ASessionOfAnInstanceWithAFreshHeartbeatCountsEvenWhenThatInstanceDoesNotAnswer()
    {
        // The control for the test above: the same rows with a fresh heartbeat count. Nothing answers the relay, so
        // no delivery is accepted within the response deadline: 503, not 404.
        await using var a = new CallNotifyApp(_store);
        var identity = NewIdentity();
        var silentInstance = Ids.New(Ids.InstancePrefix, DateTimeOffset.UtcNow);
        await InsertPresenceAsync(silentInstance, heartbeatAgeSeconds: 0, identity);

        using var response = await PostWebhookAsync(a, TwilioRequests.Body(to: "client:" + identity));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
    }

    [Test]
    public async Task ASessionBeyondTheCapOnInstanceBClosesTheOldestOnInstanceA()
    {
        var cap = new Dictionary<string, string?> { ["WebSocket:MaxSessionsPerIdentity"] = "1" };
        await using var a = new CallNotifyApp(_store, cap);
        await using var b = new CallNotifyApp(_store, cap);
        var identity = NewIdentity();
        using var onA = await ConnectAsync(a, identity, countedBy: a);
        using var onB = await ConnectAsync(b, identity, countedBy: b);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var closed = await onA.ReceiveAsync(new byte[1024], timeout.Token);
        var body = TwilioRequests.Body(to: "client:" + identity);
        var remaining = await Eventually.Until(
            async () => (await a.Services.GetRequiredService<ILiveSessionRegistry>()
                .FindAsync(AccountSid.Parse(CallNotifyApp.AccountSid), ClientIdentity.Parse(identity), CancellationToken.None)).Count,
            count => count == 1);
        using var response = await PostWebhookAsync(a, body);
        var frame = await ReceiveFrameAsync(onB, FrameWait);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(closed.MessageType, Is.EqualTo(WebSocketMessageType.Close));
            Assert.That(closed.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
            Assert.That(closed.CloseStatusDescription, Is.EqualTo("session-cap"));
            Assert.That(remaining, Is.EqualTo(1));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)), "the newer session on B");
        }
    }

    [Test]
    public async Task SignOutOnInstanceAClosesTheSessionOnInstanceBAndTheNextCallFindsNobody()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var identity = NewIdentity();
        using var onB = await ConnectAsync(b, identity, countedBy: a);

        using var admin = a.CreateAdminClient();
        using var signOut = await admin.DeleteAsync($"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity={identity}");
        using var response = await PostWebhookAsync(a, TwilioRequests.Body(to: "client:" + identity));
        var closed = await WebSocketClients.WaitForCloseAsync(onB);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(signOut.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the call right after the sign-out");
            Assert.That(closed, Is.EqualTo((WebSocketCloseStatus.PolicyViolation, "signed-out")));
        }
    }

    /// <summary>Without the relay's request (lost, or the session was opening): the holder reads the sign-out itself.</summary>
    [Test]
    public async Task AnInstanceEndsItsSessionsOfAnIdentitySignedOutElsewhereByItself()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var identity = NewIdentity();
        using var onB = await ConnectAsync(b, identity, countedBy: b);
        var started = DateTime.UtcNow;

        // Only the mark, as instance A would write it: no row deleted, no relay message.
        await a.Services.GetRequiredService<ISignOuts>().RecordAsync(
            AccountSid.Parse(CallNotifyApp.AccountSid), ClientIdentity.Parse(identity), DateTimeOffset.UtcNow, CancellationToken.None);
        var closed = await WebSocketClients.WaitForCloseAsync(onB);
        var took = DateTime.UtcNow - started;
        var remaining = await Eventually.Until(
            async () => (await a.Services.GetRequiredService<ILiveSessionRegistry>()
                .FindAsync(AccountSid.Parse(CallNotifyApp.AccountSid), ClientIdentity.Parse(identity), CancellationToken.None)).Count,
            count => count == 0);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(closed, Is.EqualTo((WebSocketCloseStatus.PolicyViolation, "signed-out")));
            Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(8)), "within seconds");
            Assert.That(remaining, Is.Zero);
        }
    }

    private static string NewIdentity() => "multi-" + Guid.NewGuid().ToString("N")[..12];

    private static Task<ClientWebSocket> ConnectAsync(CallNotifyApp app, string identity, CallNotifyApp countedBy, int expected = 1) =>
        WebSocketClients.ConnectAsync(app, identity, countedBy: countedBy, expected: expected);

    private static async Task<HttpResponseMessage> PostWebhookAsync(CallNotifyApp app, string body)
    {
        using var client = app.CreateClient();
        using var request = TwilioRequests.SignedRequest(app.BaseAddress, body);
        return await client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(15));
    }

    private static async Task<JsonElement> GetNotificationAsync(CallNotifyApp app, string messageId)
    {
        using var admin = app.CreateAdminClient();
        return await admin.GetFromJsonAsync<JsonElement>($"/admin/v1/notifications/{messageId}?accountSid={CallNotifyApp.AccountSid}");
    }

    private static Task<byte[]?> ReceiveFrameAsync(ClientWebSocket socket, TimeSpan wait) => WebSocketClients.ReceiveFrameAsync(socket, wait);

    /// <summary>The backend pid of the connection that last ran <paramref name="listen"/>, other than <paramref name="notPid"/>; waits up to 15 s.</summary>
    private async Task<int> ListenerPidAsync(string listen, int? notPid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        await using var connection = new NpgsqlConnection(_store.ConnectionString);
        await connection.OpenAsync();
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = @listen AND pid <> @not", connection);
            command.Parameters.AddWithValue("listen", listen);
            command.Parameters.AddWithValue("not", notPid ?? 0);
            if (await command.ExecuteScalarAsync() is int pid)
            {
                return pid;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "The relay listener is not listening.");
            await Task.Delay(50);
        }
    }

    private async Task<long> CountRowsAsync(string sql, string id)
    {
        await using var connection = new NpgsqlConnection(_store.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>What another instance leaves in the store: its instance row (heartbeat this old) and one session of <paramref name="identity"/>.</summary>
    private async Task InsertPresenceAsync(string instanceId, int heartbeatAgeSeconds, string identity)
    {
        await using var connection = new NpgsqlConnection(_store.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO instances (id, heartbeat_at) VALUES (@instance, now() - make_interval(secs => @age));
            INSERT INTO live_sessions (id, instance_id, account_sid, "identity", connected_at) VALUES (@session, @instance, @account, @identity, now());
            """,
            connection);
        command.Parameters.AddWithValue("instance", instanceId);
        command.Parameters.AddWithValue("age", (double)heartbeatAgeSeconds);
        command.Parameters.AddWithValue("session", Ids.New(Ids.SessionPrefix, DateTimeOffset.UtcNow));
        command.Parameters.AddWithValue("account", CallNotifyApp.AccountSid);
        command.Parameters.AddWithValue("identity", identity);
        await command.ExecuteNonQueryAsync();
    }
}
