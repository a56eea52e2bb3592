using System.Net.WebSockets;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>One connected client. Sends are serialised: a WebSocket allows one writer at a time.</summary>
public sealed class WebSocketSession(string id, string accountSid, string identity, WebSocket socket, DateTimeOffset connectedAt) : IDisposable
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public string Id { get; } = id;

    public string AccountSid { get; } = accountSid;

    public string Identity { get; } = identity;

    public DateTimeOffset ConnectedAt { get; } = connectedAt;

    internal WebSocket Socket { get; } = socket;

    /// <summary>Writes one text frame holding exactly <paramref name="payload"/>. False when the socket is gone.</summary>
    public async Task<bool> SendAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            if (Socket.State != WebSocketState.Open)
            {
                return false;
            }

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
