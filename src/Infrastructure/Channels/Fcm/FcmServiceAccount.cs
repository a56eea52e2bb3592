using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;

namespace CallNotify.Infrastructure.Channels.Fcm;

/// <summary>The fields of a Google service-account key file that FCM needs.</summary>
internal sealed record FcmServiceAccount(string ProjectId, string ClientEmail, string PrivateKey, string? PrivateKeyId, string TokenUri)
{
    /// <summary>Google's token endpoint, used when the key file names none.</summary>
    public const string DefaultTokenUri = "https://oauth2.googleapis.com/token";

    private const string ServiceAccountType = "service_account";

    /// <summary>
    /// Reads and checks the key file. On failure <paramref name="problem"/> completes the sentence
    /// "Fcm:CredentialsFile '&lt;path&gt;' …".
    /// </summary>
    public static bool TryLoad(string path, [NotNullWhen(true)] out FcmServiceAccount? account, [NotNullWhen(false)] out string? problem)
    {
        account = null;
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problem = $"cannot be read: {ex.Message}";
            return false;
        }

        return TryParse(json, out account, out problem);
    }

    public static bool TryParse(ReadOnlySpan<byte> json, [NotNullWhen(true)] out FcmServiceAccount? account, [NotNullWhen(false)] out string? problem)
    {
        account = null;
        const string NotServiceAccount = "is not a service-account JSON with project_id, client_email, private_key";
        string? type = null, projectId = null, clientEmail = null, privateKey = null, privateKeyId = null, tokenUri = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = NotServiceAccount + ".";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    reader.Skip();
                    continue;
                }

                switch (name)
                {
                    case "type": type = reader.GetString(); break;
                    case "project_id": projectId = reader.GetString(); break;
                    case "client_email": clientEmail = reader.GetString(); break;
                    case "private_key": privateKey = reader.GetString(); break;
                    case "private_key_id": privateKeyId = reader.GetString(); break;
                    case "token_uri": tokenUri = reader.GetString(); break;
                    default: break;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            problem = NotServiceAccount + $" (it is not valid JSON: {ex.Message}).";
            return false;
        }

        if ((type is not null && type != ServiceAccountType)
            || string.IsNullOrWhiteSpace(projectId)
            || string.IsNullOrWhiteSpace(clientEmail)
            || string.IsNullOrWhiteSpace(privateKey))
        {
            problem = NotServiceAccount + (type is not null && type != ServiceAccountType ? $" (its type is '{type}')." : ".");
            return false;
        }

        if (tokenUri is not null
            && (!Uri.TryCreate(tokenUri, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
        {
            problem = "has a token_uri that is not an absolute http(s) URL.";
            return false;
        }

        if (!IsRsaPkcs8Pem(privateKey))
        {
            problem = "has a private_key that is not an RSA key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----).";
            return false;
        }

        account = new FcmServiceAccount(projectId, clientEmail, privateKey, privateKeyId, tokenUri ?? DefaultTokenUri);
        problem = null;
        return true;
    }

    /// <summary>
    /// The credential initializer: the JWT assertion goes to this file's <see cref="TokenUri"/> (also its <c>aud</c>),
    /// signed with <see cref="PrivateKey"/>, with <see cref="ClientEmail"/> as issuer.
    /// </summary>
    public ServiceAccountCredential.Initializer CreateInitializer() =>
        new ServiceAccountCredential.Initializer(ClientEmail, TokenUri)
        {
            ProjectId = ProjectId,
            KeyId = PrivateKeyId,
        }.FromPrivateKey(PrivateKey);

    /// <summary>Google.Apis.Auth reads PKCS#8 only; checking with .NET's own decoder first keeps its errors out of runtime.</summary>
    private static bool IsRsaPkcs8Pem(string pem)
    {
        var trimmed = pem.AsSpan().Trim();
        if (!trimmed.StartsWith("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal)
            || !trimmed.EndsWith("-----END PRIVATE KEY-----", StringComparison.Ordinal))
        {
            return false;
        }

        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(trimmed);
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    // The private key never appears in logs or exception messages.
    public override string ToString() => $"{nameof(FcmServiceAccount)} {{ ProjectId = {ProjectId}, ClientEmail = {ClientEmail}, TokenUri = {TokenUri} }}";
}
