using System.Net.WebSockets;

namespace CallNotify.Application.Common.Ports;

/// <summary>
/// This instance's live WebSocket connections: the Api's receive loop opens one when a client upgrades and leaves it
/// when the connection is over; the session registry, presence and relay behind it are Infrastructure's.
/// </summary>
public interface ILiveConnections
{
    /// <summary>The open session of an accepted socket, counted by every instance; null when the store did not take it (the client was told to come back).</summary>
    Task<ILiveConnection?> OpenAsync(WebSocket socket, WebSocketClaims claims, CancellationToken cancellationToken);
}

/// <summary>One open session, as the receive loop sees it.</summary>
public interface ILiveConnection
{
    string Id { get; }

    /// <summary>When the client's right to the session ends (its token's expiry).</summary>
    DateTimeOffset? ExpiresAt { get; }

    /// <summary>Why the server ended the session (one of <see cref="SessionEndReasons"/>), or null while it has not.</summary>
    string? EndReason { get; }

    /// <summary>True, once, for a notification this session was sent: its acknowledgement is worth recording.</summary>
    bool TryTakeSent(string twiMessageId);

    /// <summary>Ends the session for <paramref name="reason"/>: it stops counting at once, then the close frame goes out.</summary>
    Task EndAsync(string reason);

    /// <summary>The connection is over: the session leaves the store and the registry, if it has not already.</summary>
    Task LeaveAsync();
}

/// <summary>Why the server ends a session: the close reasons of SPEC §6 (1008, and 1009 for <see cref="FrameTooBig"/>).</summary>
public static class SessionEndReasons
{
    public const string TokenExpired = "token-expired";
    public const string SignedOut = "signed-out";
    public const string SessionCap = "session-cap";
    public const string FrameRate = "frame-rate";
    public const string FrameTooBig = "frame-too-big";
}
