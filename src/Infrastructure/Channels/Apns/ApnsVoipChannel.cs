using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Infrastructure.Channels.Apns;

/// <summary>
/// PushKit VoIP pushes: the webhook body, byte for byte, as the payload; topic <c>&lt;bundle&gt;.voip</c>.
/// </summary>
internal sealed class ApnsVoipChannel(ApnsSender sender) : INotificationChannel
{
    public ChannelKind Kind => ChannelKind.ApnsVoip;

    public ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken) =>
        sender.SendAsync(message, ApnsPushType.Voip, message.Payload, cancellationToken);
}
