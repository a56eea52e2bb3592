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
/// <param name="Registration">What the client registered with its binding, read afresh for this attempt; each channel takes its own part of it. <see cref="BindingRegistration.None"/> for a live session.</param>
/// <param name="Payload">The webhook body, byte for byte.</param>
/// <param name="InviteExpiresAt">When the call invite ends: providers get it as the message TTL.</param>
public sealed record ChannelMessage(
    string DeliveryId,
    ChannelKind Channel,
    string Address,
    BindingRegistration Registration,
    string TwiMessageId,
    ReadOnlyMemory<byte> Payload,
    DateTimeOffset InviteExpiresAt);

/// <summary>
/// A binding's registration detail beyond its address, as the client gave it (<c>environment</c>, <c>appId</c>): the
/// channel that needs it reads it (APNs: which endpoint, which topic); the others ignore it.
/// </summary>
public sealed record BindingRegistration(ApnsEnvironment Environment, string? AppId)
{
    public static BindingRegistration None { get; } = new(ApnsEnvironment.Production, null);

    public static BindingRegistration Of(Domain.Bindings.Binding? binding) =>
        binding is null ? None : new BindingRegistration(binding.Environment, binding.AppId);
}
