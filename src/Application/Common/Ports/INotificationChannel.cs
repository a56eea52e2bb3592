using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Common.Ports;

/// <summary>One way of reaching a client: FCM, APNs VoIP, APNs alert or a live WebSocket.</summary>
public interface INotificationChannel
{
    ChannelKind Kind { get; }

    /// <summary>
    /// Makes one attempt to hand the payload to the client. Returns what the provider said; transport failures
    /// come back as <see cref="DeliveryResultKind.Retry"/>, never as exceptions.
    /// </summary>
    ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken);
}

/// <summary>What a channel needs for one attempt.</summary>
/// <param name="Address">The push token, or the session id for WebSocket.</param>
/// <param name="Payload">The webhook body, byte for byte.</param>
/// <param name="InviteExpiresAt">When the call invite ends: providers get it as the message TTL.</param>
public sealed record ChannelMessage(
    string DeliveryId,
    ChannelKind Channel,
    string Address,
    ApnsEnvironment Environment,
    string? AppId,
    string TwiMessageId,
    ReadOnlyMemory<byte> Payload,
    DateTimeOffset InviteExpiresAt);
