using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// Runs one accepted WebSocket connection: registers the session while it is open, reads what the client sends
/// (acknowledgements; anything else is ignored), and closes cleanly when either side is done. While it is open the
/// session is also known to the other instances through <see cref="ISessionPresence"/>.
/// </summary>
public sealed class WebSocketSessionHost(
    WebSocketSessionRegistry registry,
    ISessionPresence presence,
    TimeProvider time,
    ILogger<WebSocketSessionHost> logger)
{
    /// <summary>How long the presence row's removal may take once the connection is over.</summary>
    private static readonly TimeSpan UnregisterTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Client messages are small; a larger one closes the connection.</summary>
    public const int MaxClientMessageBytes = 4096;

    public async Task RunAsync(
        WebSocket socket,
        WebSocketClaims claims,
        Func<string, string, CancellationToken, Task> onAck,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        using var session = new WebSocketSession(Ids.New(Ids.SessionPrefix, now), claims.AccountSid.Value, claims.Identity.Value, socket, now);
        registry.Add(session);
        if (!await TryRegisterAsync(session, cancellationToken))
        {
            return;
        }

        logger.LogInformation("WebSocket session {SessionId} connected for {AccountSid}/{Identity}", session.Id, session.AccountSid, session.Identity);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxClientMessageBytes);
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var received = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (received == MaxClientMessageBytes)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", cancellationToken);
                        return;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(received, MaxClientMessageBytes - received), cancellationToken);
                    received += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Answer the client's close, unless this side started the closing handshake (shutdown).
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                    }

                    return;
                }

                if (result.MessageType == WebSocketMessageType.Text && TryReadAck(buffer.AsSpan(0, received), out var messageId))
                {
                    await AcknowledgeAsync(onAck, session.Id, messageId!, cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away or the server is stopping.
        }
        finally
        {
            // Out of the store first: once the session is gone locally, no instance still counts it.
            await UnregisterAsync(session);
            registry.Remove(session);
            ArrayPool<byte>.Shared.Return(buffer);
            logger.LogInformation("WebSocket session {SessionId} closed", session.Id);
        }
    }

    /// <summary>
    /// A session the other instances cannot see would miss their notifications: when the store does not take it,
    /// the client is told to come back (1011) rather than kept half-connected.
    /// </summary>
    private async Task<bool> TryRegisterAsync(WebSocketSession session, CancellationToken cancellationToken)
    {
        try
        {
            await presence.RegisterAsync(session, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogWarning(ex, "WebSocket session {SessionId} could not be registered in the store; closing it", session.Id);
            registry.Remove(session);
            try
            {
                using var timeout = new CancellationTokenSource(UnregisterTimeout);
                await session.CloseAsync(WebSocketCloseStatus.InternalServerError, "try again", timeout.Token);
            }
            catch (Exception closeError) when (closeError is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                session.Socket.Abort();
            }

            return false;
        }
    }

    private async Task UnregisterAsync(WebSocketSession session)
    {
        try
        {
            using var timeout = new CancellationTokenSource(UnregisterTimeout);
            await presence.UnregisterAsync(session, timeout.Token);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            // The row lingers until this instance's housekeeping (or, if it is stopping, its leaving) removes it;
            // meanwhile a delivery to it is answered "session-closed".
            logger.LogWarning(ex, "WebSocket session {SessionId} could not be removed from the store", session.Id);
        }
    }

    private async Task AcknowledgeAsync(Func<string, string, CancellationToken, Task> onAck, string sessionId, string messageId, CancellationToken cancellationToken)
    {
        try
        {
            await onAck(sessionId, messageId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An acknowledgement that cannot be recorded must not drop the connection.
            logger.LogWarning(ex, "Acknowledgement from session {SessionId} was not recorded", sessionId);
        }
    }

    internal static bool TryReadAck(ReadOnlySpan<byte> json, out string? twiMessageId)
    {
        twiMessageId = null;
        try
        {
            var message = JsonSerializer.Deserialize(json, WebSocketJsonContext.Default.ClientMessage);
            if (message is { Type: "ack", TwiMessageId: { Length: > 0 and <= 256 } id })
            {
                twiMessageId = id;
                return true;
            }
        }
        catch (JsonException)
        {
            // Not a message we know: ignored.
        }

        return false;
    }
}
