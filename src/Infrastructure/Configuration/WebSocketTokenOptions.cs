using CallNotify.Application.Common.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Configuration;

public sealed class WebSocketTokenOptions
{
    public const string Section = "WebSocket";
    public const int MinKeyBytes = 32;

    /// <summary>Base64 HMAC-SHA256 key for client tokens, at least 32 bytes.</summary>
    public string? TokenSigningKey { get; set; }

    internal byte[] KeyBytes() => Convert.FromBase64String(TokenSigningKey ?? string.Empty);
}

internal sealed class WebSocketTokenOptionsValidator(IHostEnvironment environment) : IValidateOptions<WebSocketTokenOptions>
{
    private const string Key = $"{WebSocketTokenOptions.Section}:TokenSigningKey";

    public ValidateOptionsResult Validate(string? name, WebSocketTokenOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.TokenSigningKey))
        {
            return ValidateOptionsResult.Fail($"{Key} is required (base64, at least {WebSocketTokenOptions.MinKeyBytes} bytes).");
        }

        byte[] bytes;
        try
        {
            bytes = options.KeyBytes();
        }
        catch (FormatException)
        {
            return ValidateOptionsResult.Fail($"{Key} must be base64.");
        }

        if (bytes.Length < WebSocketTokenOptions.MinKeyBytes)
        {
            return ValidateOptionsResult.Fail($"{Key} is {bytes.Length} bytes; at least {WebSocketTokenOptions.MinKeyBytes} are required.");
        }

        if (!environment.IsDevelopment() && DevelopmentCredentials.IsDevelopmentSecret(options.TokenSigningKey))
        {
            return ValidateOptionsResult.Fail($"{Key} is the development key, which is refused outside the Development environment.");
        }

        return ValidateOptionsResult.Success;
    }
}
