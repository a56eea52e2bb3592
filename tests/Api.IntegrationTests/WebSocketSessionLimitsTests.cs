using System.Net;
using System.Net.WebSockets;
using System.Text;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// A live session ends when its right to exist ends, and a client is held to its limits (SPEC §6, §8): real Kestrel,
/// real <see cref="ClientWebSocket"/> clients, both stores.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
[TestFixture(StoreKind.Postgres)]
public sealed class WebSocketSessionLimitsTests(StoreKind store) : ApiFixture(store)
{
    private const int FramesPerMinute = 20;
    private const int FrameBytes = 1024;
    private const int SessionsPerIdentity = 3;
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(10);

    private readonly CountingStore _counting = new();

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["WebSocket:MaxFramesPerMinute"] = FramesPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["WebSocket:MaxFrameBytes"] = FrameBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["WebSocket:MaxSessionsPerIdentity"] = SessionsPerIdentity.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The store's update calls are counted: an acknowledgement that is not worth one must not make one.</summary>
    protected override Action<IServiceCollection>? Services => services =>
    {
        var inner = services.Last(d => d.ServiceType == typeof(INotificationStore));
        services.RemoveAll<INotificationStore>();
        services.AddSingleton<INotificationStore>(sp => _counting.Wrap((INotificationStore)(inner.ImplementationFactory?.Invoke(sp)
            ?? inner.ImplementationInstance
            ?? ActivatorUtilities.CreateInstance(sp, inner.ImplementationType!))));
    };

    [Test]
    public async Task ASessionIsClosedWith1008WhenItsTokenExpires()
    {
        var identity = NewIdentity();
        var token = await IssueTokenAsync(identity, ttlSeconds: 2);
        using var client = await ConnectWithTokenAsync(token);
        await App.WaitForSessionsAsync(CallNotifyApp.AccountSid, identity, 1);

        var (status, reason) = await WebSocketClients.WaitForCloseAsync(client);
        using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
            Assert.That(reason, Is.EqualTo("token-expired"));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the session stopped counting");
        }
    }

    [Test]
    public async Task AMessageOverMaxFrameBytesClosesTheSessionWith1009()
    {
        var identity = NewIdentity();
        using var client = await ConnectAsync(identity);

        await client.SendAsync(new byte[FrameBytes + 1], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var (status, _) = await WebSocketClients.WaitForCloseAsync(client);

        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
    }

    [Test]
    public async Task AMessageOfMaxFrameBytesIsRead()
    {
        var identity = NewIdentity();
        using var client = await ConnectAsync(identity);

        await client.SendAsync(Encoding.UTF8.GetBytes(new string(' ', FrameBytes)), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var messageId = TwilioRequests.NewMessageId();
        using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity, messageId: messageId));
        var frame = await ReceiveFrameAsync(client, TimeSpan.FromSeconds(5));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.Not.Null, "the session is still open");
        }
    }

    [Test]
    public async Task AClientThatSendsMoreThanMaxFramesPerMinuteIsClosedWith1008()
    {
        var identity = NewIdentity();
        using var client = await ConnectAsync(identity);
        var noise = Encoding.UTF8.GetBytes("{\"type\":\"hello\"}");

        for (var i = 0; i < FramesPerMinute + 1 && client.State == WebSocketState.Open; i++)
        {
            await client.SendAsync(noise, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }

        var (status, reason) = await WebSocketClients.WaitForCloseAsync(client);
        using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
            Assert.That(reason, Is.EqualTo("frame-rate"));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the session stopped counting");
        }
    }

    [Test]
    public async Task AcksOfNotificationsSentToTheSessionDoNotCountAgainstTheFrameLimit()
    {
        var identity = NewIdentity();
        using var client = await ConnectAsync(identity);
        var messageIds = new List<string>();

        for (var i = 0; i < FramesPerMinute + 5; i++)
        {
            var messageId = TwilioRequests.NewMessageId();
            using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity, messageId: messageId));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"call {i + 1}");
            Assert.That(await ReceiveFrameAsync(client, TimeSpan.FromSeconds(5)), Is.Not.Null, $"call {i + 1}");
            await SendAckAsync(client, messageId);
            messageIds.Add(messageId);
        }

        var last = await Eventually.Until(
            async () => (await GetNotificationAsync(messageIds[^1])).GetProperty("deliveries")[0],
            d => d.GetProperty("acknowledgedAt").ValueKind == System.Text.Json.JsonValueKind.String);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.State, Is.EqualTo(WebSocketState.Open));
            Assert.That(last.GetProperty("acknowledgedAt").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.String), "the last ack was recorded");
        }
    }

    [Test]
    public async Task AcksForMessagesNeverSentToTheSessionCostNoStoreCall()
    {
        var identity = NewIdentity();
        using var client = await ConnectAsync(identity);
        var messageId = TwilioRequests.NewMessageId();
        using (var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity, messageId: messageId)))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(await ReceiveFrameAsync(client, TimeSpan.FromSeconds(5)), Is.Not.Null);
        var before = _counting.UpdatesByMessage;

        for (var i = 0; i < FramesPerMinute - 2; i++)
        {
            await SendAckAsync(client, TwilioRequests.NewMessageId());
        }

        // Then the one ack that counts: once it is on record, every message before it was read.
        await SendAckAsync(client, messageId);
        var delivery = await Eventually.Until(
            async () => (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0],
            d => d.GetProperty("acknowledgedAt").ValueKind == System.Text.Json.JsonValueKind.String);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delivery.GetProperty("acknowledgedAt").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.String));
            Assert.That(_counting.UpdatesByMessage - before, Is.EqualTo(1), "only the ack of the message sent was looked up");
            Assert.That(client.State, Is.EqualTo(WebSocketState.Open));
        }
    }

    [Test]
    public async Task AnAckIsHonouredOnlyFromTheSessionTheNotificationWasSentTo()
    {
        var identity = NewIdentity();
        using var first = await ConnectAsync(identity);
        var messageId = TwilioRequests.NewMessageId();
        using (var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity, messageId: messageId)))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(await ReceiveFrameAsync(first, TimeSpan.FromSeconds(5)), Is.Not.Null);
        using var second = await WebSocketClients.ConnectAsync(App, identity, expected: 2);
        var byMessageBefore = _counting.UpdatesByMessage;

        // The second session acks the first one's notification, then one of its own: once its own is on record, the
        // stranger's ack before it (same socket, read in order) was read too.
        await SendAckAsync(second, messageId);
        var ownId = TwilioRequests.NewMessageId();
        using (var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity, messageId: ownId)))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(await ReceiveFrameAsync(second, TimeSpan.FromSeconds(5)), Is.Not.Null);
        await SendAckAsync(second, ownId);
        await Eventually.Until(
            async () => (await GetNotificationAsync(ownId)).GetProperty("deliveries").EnumerateArray().Count(d => d.GetProperty("acknowledgedAt").ValueKind == System.Text.Json.JsonValueKind.String),
            acknowledged => acknowledged == 1);
        var afterStranger = _counting.UpdatesByMessage;
        await SendAckAsync(first, messageId);
        var delivery = await Eventually.Until(
            async () => (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0],
            d => d.GetProperty("acknowledgedAt").ValueKind == System.Text.Json.JsonValueKind.String);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterStranger - byMessageBefore, Is.EqualTo(1), "only the second session's own ack was looked up, not the stranger's");
            Assert.That(delivery.GetProperty("acknowledgedAt").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.String));
        }
    }

    [Test]
    public async Task ANewSessionBeyondTheCapClosesTheOldestWith1008()
    {
        var identity = NewIdentity();
        var clients = new List<ClientWebSocket>();
        try
        {
            for (var i = 0; i < SessionsPerIdentity; i++)
            {
                // One after the other, each on record before the next: the oldest is the first.
                clients.Add(await WebSocketClients.ConnectAsync(App, identity, expected: i + 1));
            }

            clients.Add(await WebSocketClients.ConnectAsync(App, identity, expected: SessionsPerIdentity));
            var (status, reason) = await WebSocketClients.WaitForCloseAsync(clients[0]);
            var live = await Eventually.Until(
                () => CountSessionsAsync(identity),
                count => count == SessionsPerIdentity);
            var body = TwilioRequests.Body(to: "client:" + identity);
            using var response = await PostWebhookAsync(body);
            var frames = await Task.WhenAll(clients.Skip(1).Select(c => ReceiveFrameAsync(c, TimeSpan.FromSeconds(5))));

            using (Assert.EnterMultipleScope())
            {
                Assert.That(status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
                Assert.That(reason, Is.EqualTo("session-cap"));
                Assert.That(live, Is.EqualTo(SessionsPerIdentity));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(frames, Has.All.EqualTo(Encoding.UTF8.GetBytes(body)), "every newer session still receives calls");
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private async Task<int> CountSessionsAsync(string identity) =>
        (await App.Services.GetRequiredService<ILiveSessionRegistry>()
            .FindAsync(AccountSid.Parse(CallNotifyApp.AccountSid), ClientIdentity.Parse(identity), CancellationToken.None)).Count;

    private async Task<ClientWebSocket> ConnectWithTokenAsync(string token)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(App.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(token) }.Uri, CancellationToken.None);
        return socket;
    }

    private static Task SendAckAsync(ClientWebSocket client, string messageId) =>
        client.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"ack\",\"twi_message_id\":\"{messageId}\"}}"), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    private static string NewIdentity() => "limits-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Counts the store's update calls, by id and by message, around the real store.</summary>
    private sealed class CountingStore
    {
        private int _updates;
        private int _updatesByMessage;

        public int Updates => Volatile.Read(ref _updates);

        public int UpdatesByMessage => Volatile.Read(ref _updatesByMessage);

        public INotificationStore Wrap(INotificationStore inner) => new Counted(inner, this);

        private sealed class Counted(INotificationStore inner, CountingStore counts) : INotificationStore
        {
            public Task<CalleeClients> FindCalleesAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) =>
                inner.FindCalleesAsync(accountSid, identity, now, cancellationToken);

            public Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken) =>
                inner.TryAddAsync(notification, cancellationToken);

            public Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken) =>
                inner.FindAsync(accountSid, twiMessageId, cancellationToken);

            public Task<bool> TryRememberAsync(AccountSid accountSid, string twiMessageId, NotificationOutcome outcome, DateTimeOffset at, CancellationToken cancellationToken) =>
                inner.TryRememberAsync(accountSid, twiMessageId, outcome, at, cancellationToken);

            public Task<NotificationOutcome?> FindRememberedAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken) =>
                inner.FindRememberedAsync(accountSid, twiMessageId, cancellationToken);

            public Task<CallNotification?> UpdateAsync(string id, Func<CallNotification, bool> change, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref counts._updates);
                return inner.UpdateAsync(id, change, cancellationToken);
            }

            public Task<CallNotification?> UpdateAsync(AccountSid accountSid, string twiMessageId, Func<CallNotification, bool> change, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref counts._updatesByMessage);
                return inner.UpdateAsync(accountSid, twiMessageId, change, cancellationToken);
            }

            public Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(DateTimeOffset dueAfter, DateTimeOffset dueBy, int limit, CancellationToken cancellationToken) =>
                inner.FindStalledAsync(dueAfter, dueBy, limit, cancellationToken);

            public Task RecordBindingDeliveryAsync(string bindingId, DateTimeOffset at, CancellationToken cancellationToken) =>
                inner.RecordBindingDeliveryAsync(bindingId, at, cancellationToken);
        }
    }
}
