using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// Delivers to a live session: one text frame holding the exact webhook body. A session held by another instance
/// is reached through the <see cref="ISessionRelay"/>.
/// </summary>
public sealed class WebSocketChannel(WebSocketSessionRegistry registry, ISessionRelay relay) : INotificationChannel
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    public ChannelKind Kind => ChannelKind.WebSocket;

    public async ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken)
    {
        var session = registry.Get(message.Address);
        return session is null
            ? await relay.SendAsync(message.Address, message.DeliveryId, cancellationToken)
            : await SendFrameAsync(session, message.Payload, message.TwiMessageId, SendTimeout, cancellationToken);
    }

    /// <summary>Writes one frame to a session of this instance; a client that stops reading is dropped after <paramref name="timeout"/>.</summary>
    internal static async Task<DeliveryResult> SendFrameAsync(
        WebSocketSession session,
        ReadOnlyMemory<byte> payload,
        string twiMessageId,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await session.SendAsync(payload, twiMessageId, deadline.Token)
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
