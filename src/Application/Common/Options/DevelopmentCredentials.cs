namespace CallNotify.Application.Common.Options;

/// <summary>
/// The demo credentials shipped in <c>appsettings.Development.json</c>. They are public, so the service refuses
/// to start with any of them outside the Development environment.
/// </summary>
public static class DevelopmentCredentials
{
    public const string AccountSid = "AC0123456789abcdef0123456789abcdef";
    public const string AuthToken = "dev-auth-token-do-not-use-in-production";
    public const string AdminApiKey = "dev-admin-key-do-not-use-in-production";
    public const string WebSocketSigningKey = "Y2FsbG5vdGlmeS1kZXZlbG9wbWVudC13ZWJzb2NrZXQtc2lnbmluZy1rZXkh";
    public const string ApiKeySid = "SK0123456789abcdef0123456789abcdef";
    public const string ApiKeySecret = "dev-api-key-secret-do-not-use-in-production";

    public static bool IsDevelopmentSecret(string? value) =>
        value is AuthToken or AdminApiKey or WebSocketSigningKey or ApiKeySecret;
}
