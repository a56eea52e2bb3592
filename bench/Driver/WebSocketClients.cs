using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;

namespace CallNotify.Bench;

/// <summary>
/// Live WebSocket clients, one identity each (<c>bench-user-k</c>), connected with tokens from the admin API. Each one
/// receives frames, notes the arrival time of the notification, checks that it reached the right client byte for byte,
/// and acknowledges it (<c>{"type":"ack","twi_message_id":"…"}</c>) as a real client would.
/// </summary>
internal sealed class WebSocketClients : IAsyncDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly List<Client> _clients = [];
    private readonly CancellationTokenSource _stopping = new();
    private long _receiveErrors;

    private WebSocketClients()
    {
    }

    /// <summary>Where frames are reported; set before the load starts.</summary>
    public (WebhookRequests Requests, RequestLog Log)? Sink { get; set; }

    public int Count => _clients.Count;

    /// <summary>Clients whose connection broke while the benchmark ran.</summary>
    public long ReceiveErrors => Interlocked.Read(ref _receiveErrors);

    public static async Task<WebSocketClients> ConnectAsync(
        Uri baseUrl,
        HttpClient admin,
        string accountSid,
        int count,
        CancellationToken cancellationToken)
    {
        var clients = new WebSocketClients();
        var sockets = new Client?[count];
        try
        {
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (k, ct) =>
            {
                using var response = await admin.PostAsJsonAsync(
                    new Uri(baseUrl, "/admin/v1/websocket-tokens"),
                    new { accountSid, identity = WebhookRequests.Identity(k), ttlSeconds = 86400 },
                    ct);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"POST /admin/v1/websocket-tokens answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                }

                var token = (await response.Content.ReadFromJsonAsync<TokenAnswer>(ct))?.Token
                    ?? throw new InvalidOperationException("POST /admin/v1/websocket-tokens answered no token.");
                var socket = new ClientWebSocket();
                try
                {
                    var scheme = baseUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
                    var uri = new UriBuilder(baseUrl) { Scheme = scheme, Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(token) }.Uri;
                    using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    connectTimeout.CancelAfter(TimeSpan.FromSeconds(30));
                    await socket.ConnectAsync(uri, connectTimeout.Token);
                    sockets[k] = new Client(k, socket);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            });
        }
        finally
        {
            // Whatever connected is owned (and closed) by the collection, even when another connect failed.
            clients._clients.AddRange(sockets.OfType<Client>());
            foreach (var client in clients._clients)
            {
                client.Receiving = Task.Run(() => clients.ReceiveAsync(client), CancellationToken.None);
            }
        }

        if (clients._clients.Count != count)
        {
            await clients.DisposeAsync();
            throw new InvalidOperationException($"Only {clients._clients.Count} of {count} WebSocket clients connected.");
        }

        return clients;
    }

    public async ValueTask DisposeAsync()
    {
        // The closing handshake: each receiver ends when the server's close frame arrives.
        using var timeout = new CancellationTokenSource(CloseTimeout);
        await Task.WhenAll(_clients.Select(c => CloseAsync(c, timeout.Token)));
        try
        {
            await Task.WhenAll(_clients.Select(c => c.Receiving)).WaitAsync(CloseTimeout, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Receivers still waiting are ended by the cancellation and the sockets' disposal below.
        }

        await _stopping.CancelAsync();

        foreach (var client in _clients)
        {
            client.Socket.Dispose();
        }

        _stopping.Dispose();
    }

    private static async Task CloseAsync(Client client, CancellationToken cancellationToken)
    {
        try
        {
            await client.SendLock.WaitAsync(cancellationToken);
            try
            {
                if (client.Socket.State == WebSocketState.Open)
                {
                    await client.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "benchmark over", cancellationToken);
                }
            }
            finally
            {
                client.SendLock.Release();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            client.Socket.Abort();
        }
    }

    private async Task ReceiveAsync(Client client)
    {
        var buffer = new byte[64 * 1024];
        var cancellationToken = _stopping.Token;
        try
        {
            while (client.Socket.State == WebSocketState.Open)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    result = await client.Socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                var arrived = Stopwatch.GetTimestamp();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                await OnFrameAsync(client, buffer.AsMemory(0, length), arrived, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _receiveErrors);
            }
        }
    }

    private async Task OnFrameAsync(Client client, ReadOnlyMemory<byte> frame, long arrived, CancellationToken cancellationToken)
    {
        if (Sink is not var (requests, log))
        {
            return;
        }

        if (!requests.TryReadSeq(frame.Span, out var seq))
        {
            log.Stray();
            return;
        }

        var intact = frame.Span.SequenceEqual(requests.Body(seq));
        log.Delivered(seq, arrived, routedRight: requests.CalleeOf(seq) == client.Index, intact);

        var ack = Encoding.UTF8.GetBytes("{\"type\":\"ack\",\"twi_message_id\":\"" + requests.MessageId(seq) + "\"}");
        await client.SendLock.WaitAsync(cancellationToken);
        try
        {
            await client.Socket.SendAsync(ack, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            client.SendLock.Release();
        }
    }

    private sealed class Client(int index, ClientWebSocket socket)
    {
        public int Index { get; } = index;

        public ClientWebSocket Socket { get; } = socket;

        public SemaphoreSlim SendLock { get; } = new(1, 1);

        public Task Receiving { get; set; } = Task.CompletedTask;
    }

    private sealed record TokenAnswer(string? Token);
}
