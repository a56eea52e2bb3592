using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>Real <see cref="ClientWebSocket"/> clients of a running app.</summary>
public static class WebSocketClients
{
    /// <summary>
    /// A client connected to <paramref name="app"/> as (account, identity); waits until <paramref name="countedBy"/>
    /// (by default the same app) counts <paramref name="expected"/> sessions of that identity.
    /// </summary>
    public static async Task<ClientWebSocket> ConnectAsync(
        CallNotifyApp app,
        string identity,
        string accountSid = CallNotifyApp.AccountSid,
        CallNotifyApp? countedBy = null,
        int expected = 1)
    {
        using var admin = app.CreateAdminClient();
        using var tokenResponse = await admin.PostAsJsonAsync("/admin/v1/websocket-tokens", new { accountSid, identity });
        Assert.That(tokenResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK), await tokenResponse.Content.ReadAsStringAsync());
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new UriBuilder(app.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(token) }.Uri, timeout.Token);

        // The server registers the session right after the upgrade; wait for it to count.
        await (countedBy ?? app).WaitForSessionsAsync(accountSid, identity, expected);
        return socket;
    }

    /// <summary>The status the server answers a WebSocket upgrade with the token (as <c>?token=</c>), 101 when it took it.</summary>
    public static async Task<HttpStatusCode> UpgradeStatusAsync(CallNotifyApp app, string? token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var uri = new UriBuilder(app.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = token is null ? string.Empty : "token=" + Uri.EscapeDataString(token) }.Uri;
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None);
            return socket.HttpStatusCode;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    /// <summary>Reads until the server's close arrives (frames before it are dropped): its status and reason.</summary>
    public static async Task<(WebSocketCloseStatus? Status, string? Reason)> WaitForCloseAsync(ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var result = await client.ReceiveAsync(buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return (result.CloseStatus, result.CloseStatusDescription);
                }
            }
        }
        catch (OperationCanceledException)
        {
            return (null, "the server did not close the session");
        }
    }

    /// <summary>The next text frame, or null when none arrives within <paramref name="wait"/> (or the server closes).</summary>
    public static async Task<byte[]?> ReceiveFrameAsync(ClientWebSocket socket, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        var buffer = new byte[128 * 1024];
        var received = 0;
        try
        {
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(received), timeout.Token);
                received += result.Count;
            }
            while (!result.EndOfMessage);

            return result.MessageType == WebSocketMessageType.Text ? buffer[..received] : null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
