using System.Text.Json.Serialization;

namespace CallNotify.Infrastructure.WebSockets;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TokenClaims))]
internal sealed partial class WebSocketJsonContext : JsonSerializerContext;
