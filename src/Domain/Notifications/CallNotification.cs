using CallNotify.Domain.Common;

namespace CallNotify.Domain.Notifications;

/// <summary>
/// One incoming-call notification Twilio posted, with the raw body exactly as received and one
/// <see cref="Delivery"/> per client it was sent to. (account, twi_message_id) is unique.
/// </summary>
public sealed class CallNotification
{
    public const int MaxFieldLength = 256;

    /// <summary>
    /// The most deliveries one notification has: their ids are numbered from its own (<see cref="Ids.Numbered"/>).
    /// Far above what a callee can have (<c>Bindings:MaxPerIdentity</c> bindings and
    /// <c>WebSocket:MaxSessionsPerIdentity</c> sessions).
    /// </summary>
    public const int MaxDeliveries = Ids.MaxNumbered;

    private readonly List<Delivery> _deliveries = [];

    // For EF Core.
    private CallNotification()
    {
        Id = string.Empty;
        TwiMessageId = string.Empty;
        CallSid = string.Empty;
        To = string.Empty;
        MessageType = string.Empty;
        RawBody = [];
    }

    public string Id { get; private set; }

    public AccountSid AccountSid { get; private set; }

    public string TwiMessageId { get; private set; }

    public string CallSid { get; private set; }

    public string? From { get; private set; }

    public string To { get; private set; }

    public ClientIdentity Identity { get; private set; }

    public string MessageType { get; private set; }

    /// <summary>The webhook body, byte for byte: this is what clients receive.</summary>
    public byte[] RawBody { get; private set; }

    public DateTimeOffset ReceivedAt { get; private set; }

    /// <summary>When the call invite stops being worth delivering.</summary>
    public DateTimeOffset ExpiresAt { get; private set; }

    /// <summary>Decided by the deliveries' states (<see cref="Decide"/>): nothing of it is stored on its own.</summary>
    public NotificationOutcome Outcome => Decide(_deliveries);

    public IReadOnlyList<Delivery> Deliveries => _deliveries;

    /// <summary>
    /// A notification with one delivery to each of <paramref name="targets"/>: <see cref="Arrive"/>, then
    /// <see cref="IncomingCall.Ring"/>.
    /// </summary>
    public static CallNotification Receive(
        AccountSid accountSid,
        string twiMessageId,
        string callSid,
        string? from,
        string to,
        ClientIdentity identity,
        string messageType,
        ReadOnlyMemory<byte> rawBody,
        DateTimeOffset receivedAt,
        TimeSpan inviteTtl,
        IReadOnlyCollection<DeliveryTarget> targets) =>
        Arrive(accountSid, twiMessageId, callSid, from, to, identity, messageType, rawBody, receivedAt, inviteTtl).Ring(targets);

    /// <summary>
    /// The call as it arrived, before its callee's clients are known: its fields checked (a too long <c>twi_from</c>
    /// truncated), its id given and its invite's end set. A store looks the callee up and records it
    /// (<see cref="IncomingCall.Ring"/>), on PostgreSQL in one statement.
    /// </summary>
    public static IncomingCall Arrive(
        AccountSid accountSid,
        string twiMessageId,
        string callSid,
        string? from,
        string to,
        ClientIdentity identity,
        string messageType,
        ReadOnlyMemory<byte> rawBody,
        DateTimeOffset receivedAt,
        TimeSpan inviteTtl)
    {
        RequireField("twi_message_id", twiMessageId);
        RequireField("twi_call_sid", callSid);
        RequireField("twi_message_type", messageType);
        if (from is not null && Text.HasControlCharacter(from))
        {
            throw new DomainException("twi_from", "'twi_from' has no control characters.");
        }
        if (inviteTtl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(inviteTtl), inviteTtl, "The invite TTL is positive.");
        }

        return new IncomingCall(
            Ids.New(Ids.NotificationPrefix, receivedAt),
            accountSid,
            twiMessageId,
            callSid,
            from is null ? null : Text.Truncate(from, MaxFieldLength),
            to,
            identity,
            messageType,
            rawBody.ToArray(),
            receivedAt,
            receivedAt + inviteTtl);
    }

    /// <summary>The notification of <paramref name="call"/> with one delivery per target, numbered in their order.</summary>
    internal static CallNotification Ring(IncomingCall call, IReadOnlyCollection<DeliveryTarget> targets)
    {
        if (targets.Count == 0)
        {
            throw new DomainException("twi_to", "A call notification is recorded only for a callee with at least one client.");
        }

        if (targets.Count > MaxDeliveries)
        {
            throw new DomainException("twi_to", $"A call notification goes to at most {MaxDeliveries} clients.");
        }

        return Restore(
            call.Id,
            call.AccountSid,
            call.TwiMessageId,
            call.CallSid,
            call.From,
            call.To,
            call.Identity,
            call.MessageType,
            call.RawBody,
            call.ReceivedAt,
            call.ExpiresAt,
            targets.Select((target, ordinal) => Delivery.ForTarget(call.Id, ordinal, target, call.ReceivedAt)));
    }

    /// <summary>
    /// This notification as it is now, sharing nothing that changes with it: a change to either is not seen by the other.
    /// (The raw body is shared: nothing writes to it.) For a store that keeps the last state it wrote.
    /// </summary>
    public CallNotification Copy()
    {
        var copy = Restore(Id, AccountSid, TwiMessageId, CallSid, From, To, Identity, MessageType, RawBody, ReceivedAt, ExpiresAt, []);
        copy._deliveries.Capacity = _deliveries.Count;
        foreach (var delivery in _deliveries)
        {
            copy._deliveries.Add(delivery.Copy());
        }

        return copy;
    }

    /// <summary>Rebuilds a notification exactly as stored, for a store that does not materialise entities itself.</summary>
    public static CallNotification Restore(
        string id,
        AccountSid accountSid,
        string twiMessageId,
        string callSid,
        string? from,
        string to,
        ClientIdentity identity,
        string messageType,
        byte[] rawBody,
        DateTimeOffset receivedAt,
        DateTimeOffset expiresAt,
        IEnumerable<Delivery> deliveries)
    {
        var notification = new CallNotification
        {
            Id = id,
            AccountSid = accountSid,
            TwiMessageId = twiMessageId,
            CallSid = callSid,
            From = from,
            To = to,
            Identity = identity,
            MessageType = messageType,
            RawBody = rawBody,
            ReceivedAt = receivedAt,
            ExpiresAt = expiresAt,
        };
        notification._deliveries.AddRange(deliveries);
        return notification;
    }

    public bool IsLiveAt(DateTimeOffset now) => now < ExpiresAt;

    public Delivery GetDelivery(string deliveryId) =>
        _deliveries.Find(d => d.Id == deliveryId)
        ?? throw new InvalidOperationException($"Delivery {deliveryId} is not part of notification {Id}.");

    /// <summary>Records one attempt's result. A retry asked for after the invite's end expires the delivery instead.</summary>
    /// <param name="retryAt">For a retry: when the next attempt is due (the dispatcher's backoff).</param>
    public bool RecordResult(string deliveryId, DeliveryResult result, DateTimeOffset now, DateTimeOffset? retryAt = null)
    {
        var delivery = GetDelivery(deliveryId);
        var changed = delivery.Apply(result, now, retryAt);
        if (changed && delivery.Status == DeliveryStatus.Pending && !IsLiveAt(now))
        {
            delivery.Expire(now);
        }

        return changed;
    }

    /// <summary>Takes over a delivery whose dispatcher went silent (see <see cref="Delivery.TakeOver"/>).</summary>
    public bool TakeOverDelivery(string deliveryId, DateTimeOffset dueBy, DateTimeOffset leaseUntil, DateTimeOffset now) =>
        GetDelivery(deliveryId).TakeOver(dueBy, leaseUntil, now);

    /// <summary>The invite is over for this delivery: it will never be sent.</summary>
    public bool ExpireDelivery(string deliveryId, DateTimeOffset now) => GetDelivery(deliveryId).Expire(now);

    /// <summary>A WebSocket client acknowledged the frame it received.</summary>
    public bool Acknowledge(string sessionId, DateTimeOffset now) => AcknowledgeWhere(d => d.SessionId == sessionId, now);

    /// <summary>A push client's receipt: the delivery to <paramref name="bindingId"/> is acknowledged. False when nothing changed.</summary>
    public bool AcknowledgeBinding(string bindingId, DateTimeOffset now) => AcknowledgeWhere(d => d.BindingId == bindingId, now);

    private bool AcknowledgeWhere(Func<Delivery, bool> isTo, DateTimeOffset now)
    {
        var changed = false;
        foreach (var delivery in _deliveries)
        {
            if (isTo(delivery))
            {
                changed |= delivery.Acknowledge(now);
            }
        }

        return changed;
    }

    /// <summary>Any accepted delivery makes the notification delivered; all clients gone makes it undeliverable (404).</summary>
    public static NotificationOutcome Decide(IReadOnlyCollection<Delivery> deliveries)
    {
        if (deliveries.Any(d => d.Status == DeliveryStatus.Accepted))
        {
            return NotificationOutcome.Delivered;
        }

        if (deliveries.Any(d => !d.IsFinal))
        {
            return NotificationOutcome.Pending;
        }

        return deliveries.All(d => d.ClientGone) ? NotificationOutcome.NoActiveClients : NotificationOutcome.Failed;
    }

    /// <summary>A stored text field: 1 to <see cref="MaxFieldLength"/> characters, none of them a control character.</summary>
    public static bool IsValidField(string? value) =>
        Text.IsStorable(value, MaxFieldLength);

    private static void RequireField(string field, string? value)
    {
        if (!IsValidField(value))
        {
            throw new DomainException(field, $"'{field}' is 1 to {MaxFieldLength} characters without control characters.");
        }
    }
}
