using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Infrastructure.Channels.Apns;

/// <summary>
/// Regular APNs alert pushes: the body's fields at the top level plus an <c>aps</c> alert naming the caller
/// (<see cref="ApnsAlertPayload"/>); topic <c>&lt;bundle&gt;</c>.
/// </summary>
internal sealed class ApnsAlertChannel(ApnsSender sender) : INotificationChannel
{
    public const string PayloadNotAnObject = "payload-not-a-json-object";

    public ChannelKind Kind => ChannelKind.Apns;

    public ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken) =>
        ApnsAlertPayload.Build(message.Payload.Span) is { } payload
            ? sender.SendAsync(message, ApnsPushType.Alert, payload, cancellationToken)
            : ValueTask.FromResult(DeliveryResult.Failed(PayloadNotAnObject));
}
