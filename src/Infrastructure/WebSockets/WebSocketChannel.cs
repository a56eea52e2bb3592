using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>Delivers to a live session: one text frame holding the exact webhook body.</summary>
public sealed class WebSocketChannel(WebSocketSessionRegistry registry) : INotificationChannel
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    public ChannelKind Kind => ChannelKind.WebSocket;

    public async ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken)
    {
        var session = registry.Get(message.Address);
        if (session is null)
        {
            return DeliveryResult.ClientGone(DeliveryErrors.SessionClosed);
        }

        // A client that stops reading must not hold a delivery forever.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(SendTimeout);
        try
        {
            return await session.SendAsync(message.Payload, timeout.Token)
                ? DeliveryResult.Accepted()
                : DeliveryResult.ClientGone(DeliveryErrors.SessionClosed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            session.Socket.Abort();
            return DeliveryResult.ClientGone(DeliveryErrors.SessionClosed);
        }
    }
}
