using CallNotify.Domain.Common;

namespace CallNotify.Domain.Notifications;

/// <summary>
/// A call notification as it arrived, before anyone is chosen to ring (<see cref="CallNotification.Arrive"/>): its id,
/// its checked fields, the raw body and the invite's end. <see cref="Ring"/> makes the notification with one delivery
/// per client of the callee.
/// </summary>
public sealed class IncomingCall
{
    internal IncomingCall(
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
        DateTimeOffset expiresAt)
    {
        Id = id;
        AccountSid = accountSid;
        TwiMessageId = twiMessageId;
        CallSid = callSid;
        From = from;
        To = to;
        Identity = identity;
        MessageType = messageType;
        RawBody = rawBody;
        ReceivedAt = receivedAt;
        ExpiresAt = expiresAt;
    }

    public string Id { get; }

    public AccountSid AccountSid { get; }

    public string TwiMessageId { get; }

    public string CallSid { get; }

    /// <summary><c>twi_from</c>, truncated to <see cref="CallNotification.MaxFieldLength"/> on a code-point boundary.</summary>
    public string? From { get; }

    public string To { get; }

    public ClientIdentity Identity { get; }

    public string MessageType { get; }

    /// <summary>The webhook body, byte for byte (a copy of the request's).</summary>
    public byte[] RawBody { get; }

    public DateTimeOffset ReceivedAt { get; }

    public DateTimeOffset ExpiresAt { get; }

    /// <summary>
    /// The notification with delivery number <c>i</c> going to <paramref name="targets"/>[<c>i</c>]; at least one, at
    /// most <see cref="CallNotification.MaxDeliveries"/>.
    /// </summary>
    public CallNotification Ring(IReadOnlyCollection<DeliveryTarget> targets) => CallNotification.Ring(this, targets);
}
