using System.Text.Json.Serialization;

namespace CallNotify.Api.WebSockets;

/// <summary>What a client may send: <c>{"type":"ack","twi_message_id":"WB…"}</c>.</summary>
internal sealed record ClientMessage(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("twi_message_id")] string? TwiMessageId);

[JsonSerializable(typeof(ClientMessage))]
internal sealed partial class WebSocketJsonContext : JsonSerializerContext;
