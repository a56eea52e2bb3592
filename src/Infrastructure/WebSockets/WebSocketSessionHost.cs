using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// Runs one accepted WebSocket connection: registers the session while it is open, reads what the client sends
/// (acknowledgements; anything else is ignored), and closes cleanly when either side is done.
/// </summary>
public sealed class WebSocketSessionHost(WebSocketSessionRegistry registry, TimeProvider time, ILogger<WebSocketSessionHost> logger)
{
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
            registry.Remove(session);
            ArrayPool<byte>.Shared.Return(buffer);
            logger.LogInformation("WebSocket session {SessionId} closed", session.Id);
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
