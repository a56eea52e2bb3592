using System.Net.WebSockets;
using CallNotify.Application.Common.Ports;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// Ends sessions of this instance whose right to exist is over, and takes sessions out of the registry and the
/// store. An ended session stops counting and receiving at once: it leaves the registry and the store before its
/// close frame is sent. The client then has <see cref="HandshakeGrace"/> to answer the close before its connection is
/// dropped.
/// </summary>
public sealed class WebSocketSessionCloser(
    WebSocketSessionRegistry registry,
    ISessionPresence presence,
    ILogger<WebSocketSessionCloser> logger)
{
    /// <summary>The reasons another instance may ask for (the relay refuses anything else).</summary>
    public static readonly IReadOnlySet<string> RelayedReasons = new HashSet<string>(StringComparer.Ordinal) { SessionEndReasons.SignedOut, SessionEndReasons.SessionCap };

    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HandshakeGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Ends the session for <paramref name="reason"/> (1009 for <see cref="SessionEndReasons.FrameTooBig"/>, else 1008), once; later
    /// calls do nothing. Never throws for a connection that is already gone.
    /// </summary>
    public async Task EndAsync(WebSocketSession session, string reason)
    {
        if (!session.TryEnd(reason))
        {
            return;
        }

        logger.LogInformation("WebSocket session {SessionId} ended by the server: {Reason}", session.Id, reason);
        await LeaveAsync(session);
        var status = reason == SessionEndReasons.FrameTooBig ? WebSocketCloseStatus.MessageTooBig : WebSocketCloseStatus.PolicyViolation;
        try
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            await session.CloseAsync(status, reason, timeout.Token);

            // A client that never answers the close must not keep its connection.
            _ = Task.Delay(HandshakeGrace, CancellationToken.None).ContinueWith(
                _ => session.Socket.Abort(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            session.Socket.Abort();
        }
    }

    /// <summary>Takes the session out of the store, then out of the registry, once: from then on no instance counts it.</summary>
    public async Task LeaveAsync(WebSocketSession session)
    {
        if (!session.TryLeave())
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(StoreTimeout);
            await presence.UnregisterAsync(session, timeout.Token);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            // The row lingers until this instance's housekeeping (or, if it is stopping, its leaving) removes it;
            // meanwhile a delivery to it is answered "session-closed".
            logger.LogWarning(ex, "WebSocket session {SessionId} could not be removed from the store", session.Id);
        }
        finally
        {
            registry.Remove(session);
        }
    }
}
