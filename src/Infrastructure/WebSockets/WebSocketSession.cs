using System.Net.WebSockets;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// One connected client. Sends are serialised: a WebSocket allows one writer at a time. The session remembers the
/// message ids of the last <see cref="SentIdsKept"/> frames it was sent, so that an acknowledgement is honoured only for
/// a notification this very session received, and one for anything else costs no store read.
/// </summary>
public sealed class WebSocketSession(
    string id,
    string accountSid,
    string identity,
    WebSocket socket,
    DateTimeOffset connectedAt,
    DateTimeOffset? expiresAt = null,
    DateTimeOffset? issuedAt = null) : IDisposable
{
    /// <summary>How many sent message ids a session keeps for acknowledgement (a ring: the oldest go first).</summary>
    internal const int SentIdsKept = 64;

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Lock _sentLock = new();
    private readonly Queue<(string Id, long Turn)> _sentOrder = new();
    private readonly Dictionary<string, long> _sent = new(StringComparer.Ordinal);
    private long _sends;
    private string? _endReason;
    private int _left;

    public string Id { get; } = id;

    public string AccountSid { get; } = accountSid;

    public string Identity { get; } = identity;

    public DateTimeOffset ConnectedAt { get; } = connectedAt;

    /// <summary>When the client's right to the session ends (its token's expiry); null: it does not end by itself.</summary>
    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    /// <summary>When the token the session connected with was issued: a sign-out at or after it ends the session.</summary>
    public DateTimeOffset IssuedAt { get; } = issuedAt ?? DateTimeOffset.MinValue;

    /// <summary>Why the server ended the session (a 1008 reason), or null while it has not.</summary>
    public string? EndReason => Volatile.Read(ref _endReason);

    internal WebSocket Socket { get; } = socket;

    /// <summary>Marks the session as ended by the server, once. True for the call that marked it.</summary>
    internal bool TryEnd(string reason) => Interlocked.CompareExchange(ref _endReason, reason, null) is null;

    /// <summary>Marks the session as out of the registry and the store, once. True for the call that marked it.</summary>
    internal bool TryLeave() => Interlocked.Exchange(ref _left, 1) == 0;

    /// <summary>
    /// Writes one text frame holding exactly <paramref name="payload"/>, the notification <paramref name="twiMessageId"/>.
    /// False when the socket is gone or the session was ended.
    /// </summary>
    public async Task<bool> SendAsync(ReadOnlyMemory<byte> payload, string twiMessageId, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            if (Socket.State != WebSocketState.Open || EndReason is not null)
            {
                return false;
            }

            // Remembered before the frame goes out: the client may answer before SendAsync returns.
            RememberSent(twiMessageId);
            await Socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or IOException)
        {
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// True, once, for a message id this session was sent: the acknowledgement is worth recording. Any other id (never
    /// sent here, already acknowledged, or too old to be kept) is false.
    /// </summary>
    public bool TryTakeSent(string twiMessageId)
    {
        lock (_sentLock)
        {
            // The ring keeps the id until it is pushed out; a taken id is only out of the set.
            return _sent.Remove(twiMessageId);
        }
    }

    private void RememberSent(string twiMessageId)
    {
        lock (_sentLock)
        {
            // A resend of the same notification moves it to the newest place.
            var turn = ++_sends;
            _sent[twiMessageId] = turn;
            _sentOrder.Enqueue((twiMessageId, turn));
            while (_sentOrder.Count > SentIdsKept)
            {
                var (oldest, oldestTurn) = _sentOrder.Dequeue();
                if (_sent.TryGetValue(oldest, out var current) && current == oldestTurn)
                {
                    _sent.Remove(oldest);
                }
            }
        }
    }

    /// <summary>Sends a close frame (no further frames go out after it); the read loop ends when the client answers.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string description, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await Socket.CloseOutputAsync(status, description, cancellationToken);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public void Dispose() => _sendLock.Dispose();
}
