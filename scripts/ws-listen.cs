// A minimal CallNotify WebSocket client for trying the service out:
//   dotnet run scripts/ws-listen.cs -- <token> [base-url]
// It connects to /v1/websocket with the token, prints every notification it receives exactly as received,
// and acknowledges each one ({"type":"ack","twi_message_id":"…"}). Ctrl+C stops it.
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: dotnet run scripts/ws-listen.cs -- <token> [base-url, default ws://localhost:5080]");
    return 2;
}

var baseUrl = args.Length > 1 ? args[1].TrimEnd('/') : "ws://localhost:5080";
var uri = new Uri($"{baseUrl}/v1/websocket?token={Uri.EscapeDataString(args[0])}");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };

using var socket = new ClientWebSocket();
await socket.ConnectAsync(uri, stop.Token);
Console.WriteLine($"connected to {baseUrl}; waiting for calls (Ctrl+C to stop)");
var buffer = new byte[64 * 1024];
try
{
    while (socket.State == WebSocketState.Open)
    {
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(length), stop.Token);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        if (result.MessageType == WebSocketMessageType.Close)
        {
            break;
        }

        var text = Encoding.UTF8.GetString(buffer, 0, length);
        Console.WriteLine(text);
        using var json = JsonDocument.Parse(text);
        if (json.RootElement.TryGetProperty("twi_message_id", out var id))
        {
            var ack = new MemoryStream();
            using (var writer = new Utf8JsonWriter(ack))
            {
                writer.WriteStartObject();
                writer.WriteString("type", "ack");
                writer.WriteString("twi_message_id", id.GetString());
                writer.WriteEndObject();
            }

            await socket.SendAsync(ack.ToArray(), WebSocketMessageType.Text, true, stop.Token);
        }
    }
}
catch (OperationCanceledException)
{
}

return 0;
