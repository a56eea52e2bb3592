using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.WebSockets.AcknowledgeDelivery;
using CallNotify.Application.Common.Options;
using Mediator;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.WebSockets;

/// <summary>
/// Runs one accepted WebSocket connection: opens the session, reads what the client sends until either side closes,
/// and holds the client to its limits (SPEC §6). A message over <see cref="WebSocketSessionOptions.MaxFrameBytes"/>
/// ends the session with 1009; more than <see cref="WebSocketSessionOptions.MaxFramesPerMinute"/> messages of its own in
/// a minute, or the token's expiry, with 1008. An acknowledgement becomes an <see cref="AcknowledgeDeliveryCommand"/>
/// only for a notification this session was sent, and is then not counted; anything else costs no store read, counts,
/// and is otherwise ignored.
/// </summary>
public sealed class WebSocketSessionLoop(
    ILiveConnections sessions,
    IOptions<WebSocketSessionOptions> options,
    TimeProvider time,
    ILogger<WebSocketSessionLoop> logger)
{
    /// <summary>The longest message id an acknowledgement may name.</summary>
    private const int MaxMessageIdLength = 256;

    /// <param name="sender">The request's own: acknowledgements are its commands.</param>
    public async Task RunAsync(WebSocket socket, WebSocketClaims claims, ISender sender, CancellationToken cancellationToken)
    {
        var session = await sessions.OpenAsync(socket, claims, cancellationToken);
        if (session is null)
        {
            return;
        }

        var limits = options.Value;
        var buffer = ArrayPool<byte>.Shared.Rent(limits.MaxFrameBytes);
        var frames = new FrameWindow(limits.MaxFramesPerMinute, time);
        using var expiry = WhenExpired(session);
        try
        {
            while (socket.State == WebSocketState.Open || (session.EndReason is not null && socket.State == WebSocketState.CloseSent))
            {
                var (received, type) = await ReceiveMessageAsync(socket, buffer, limits.MaxFrameBytes, cancellationToken);
                if (type == WebSocketMessageType.Close)
                {
                    // Answer the client's close, unless this side started the closing handshake (ended or shutdown).
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                    }

                    return;
                }

                if (session.EndReason is not null)
                {
                    // Ended: what still arrives before the client's close is read and dropped.
                    continue;
                }

                if (received > limits.MaxFrameBytes)
                {
                    await session.EndAsync(SessionEndReasons.FrameTooBig);
                    continue;
                }

                // The acknowledgement of a notification this session was sent answers the server: it is recorded and
                // not counted (a busy client acknowledges as many as it gets). Everything else is the client's own
                // traffic, and counts.
                if (type == WebSocketMessageType.Text
                    && TryReadAck(buffer.AsSpan(0, received), out var messageId)
                    && session.TryTakeSent(messageId!))
                {
                    await AcknowledgeAsync(sender, session, claims, messageId!, cancellationToken);
                }
                else if (!frames.TryCount())
                {
                    await session.EndAsync(SessionEndReasons.FrameRate);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away, its connection was dropped, or the server is stopping.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await session.LeaveAsync();
        }
    }

    /// <summary>
    /// Reads one whole message into <paramref name="buffer"/>. A message longer than <paramref name="max"/> is read to
    /// its end and dropped: the count returned is then <paramref name="max"/> + 1.
    /// </summary>
    private static async Task<(int Received, WebSocketMessageType Type)> ReceiveMessageAsync(
        WebSocket socket, byte[] buffer, int max, CancellationToken cancellationToken)
    {
        var received = 0;
        var tooBig = false;
        ValueWebSocketReceiveResult result;
        do
        {
            var room = tooBig ? buffer.AsMemory(0, max) : buffer.AsMemory(received, max - received);
            if (room.Length == 0)
            {
                // Full and more is coming: over the limit. Keep reading (into the start) to reach the message's end.
                tooBig = true;
                room = buffer.AsMemory(0, max);
            }

            result = await socket.ReceiveAsync(room, cancellationToken);
            if (!tooBig)
            {
                received += result.Count;
            }
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

        return (tooBig ? max + 1 : received, result.MessageType);
    }

    /// <summary>Ends the session when its token expires (now, if it already has).</summary>
    private ITimer? WhenExpired(ILiveConnection session)
    {
        if (session.ExpiresAt is not { } expiresAt)
        {
            return null;
        }

        var due = expiresAt - time.GetUtcNow();
        return time.CreateTimer(
            _ => _ = session.EndAsync(SessionEndReasons.TokenExpired),
            null,
            due < TimeSpan.Zero ? TimeSpan.Zero : due,
            Timeout.InfiniteTimeSpan);
    }

    private async Task AcknowledgeAsync(ISender sender, ILiveConnection session, WebSocketClaims claims, string messageId, CancellationToken cancellationToken)
    {
        try
        {
            await sender.Send(new AcknowledgeDeliveryCommand(claims.AccountSid, claims.Identity, session.Id, messageId), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An acknowledgement that cannot be recorded must not drop the connection.
            logger.LogWarning(ex, "Acknowledgement from session {SessionId} was not recorded", session.Id);
        }
    }

    internal static bool TryReadAck(ReadOnlySpan<byte> json, out string? twiMessageId)
    {
        twiMessageId = null;
        try
        {
            var message = JsonSerializer.Deserialize(json, WebSocketJsonContext.Default.ClientMessage);
            if (message is { Type: "ack", TwiMessageId: { Length: > 0 and <= MaxMessageIdLength } id })
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

    /// <summary>A fixed one-minute window of the messages a session sent.</summary>
    private sealed class FrameWindow(int perMinute, TimeProvider time)
    {
        private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
        private DateTimeOffset _start = time.GetUtcNow();
        private int _count;

        public bool TryCount()
        {
            var now = time.GetUtcNow();
            if (now - _start >= Window)
            {
                _start = now;
                _count = 0;
            }

            return ++_count <= perMinute;
        }
    }
}
