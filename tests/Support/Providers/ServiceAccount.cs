using System.Security.Cryptography;
using System.Text.Json;

namespace CallNotify.Infrastructure.Tests.Channels.Fcm;

/// <summary>A service account made up for a test: an RSA key pair and the key file Firebase would hand out.</summary>
public sealed class ServiceAccount : IDisposable
{
    public const string ProjectId = "callnotify-test";
    public const string ClientEmail = "callnotify@callnotify-test.iam.gserviceaccount.com";

    private readonly RSA _key;

    public ServiceAccount()
    {
        _key = RSA.Create(2048);
        PublicKey = RSA.Create();
        PublicKey.ImportSubjectPublicKeyInfo(_key.ExportSubjectPublicKeyInfo(), out _);
    }

    public RSA PublicKey { get; }

    public string PrivateKeyPem => _key.ExportPkcs8PrivateKeyPem();

    public string Pkcs1PrivateKeyPem => _key.ExportRSAPrivateKeyPem();

    /// <summary>Writes the key file into <paramref name="directory"/>; <paramref name="change"/> may edit its fields.</summary>
    public string WriteKeyFile(string directory, string tokenUri, Action<Dictionary<string, string>>? change = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = ProjectId,
            ["private_key_id"] = "0123456789abcdef0123456789abcdef01234567",
            ["private_key"] = PrivateKeyPem,
            ["client_email"] = ClientEmail,
            ["client_id"] = "100000000000000000001",
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = tokenUri,
        };
        change?.Invoke(fields);
        var path = Path.Combine(directory, $"service-account-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(fields));
        return path;
    }

    public void Dispose()
    {
        _key.Dispose();
        PublicKey.Dispose();
    }
}
