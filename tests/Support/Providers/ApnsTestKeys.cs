using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CallNotify.Infrastructure.Tests.Channels.Apns.Support;

/// <summary>
/// Key material made fresh for a test run, in a temporary directory: the team's APNs auth key as a <c>.p8</c> file
/// (its public half verifies tokens in the fake APNs) and a self-signed TLS certificate for 127.0.0.1/localhost.
/// </summary>
public sealed class ApnsTestKeys : IDisposable
{
    public const string TeamId = "TEAM12345A";
    public const string KeyId = "KEY123456B";
    public const string BundleId = "com.example.callnotify";

    private readonly ECDsa _signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ApnsTestKeys()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("callnotify-apns-").FullName;
        KeyFile = WriteFile("AuthKey_" + KeyId + ".p8", _signingKey.ExportPkcs8PrivateKeyPem());
        VerificationKey = ECDsa.Create(_signingKey.ExportParameters(includePrivateParameters: false));
        TlsCertificate = CreateTlsCertificate();
    }

    public string Directory { get; }

    /// <summary>The .p8 file the service is configured with.</summary>
    public string KeyFile { get; }

    /// <summary>The public half of the auth key, as Apple holds it.</summary>
    public ECDsa VerificationKey { get; }

    public X509Certificate2 TlsCertificate { get; }

    public string WriteFile(string name, string contents)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, contents);
        return path;
    }

    /// <summary>Trusts the fake server's certificate and nothing else.</summary>
    public bool IsTheTestCertificate(X509Certificate? certificate) =>
        certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(TlsCertificate.RawData);

    public void Dispose()
    {
        _signingKey.Dispose();
        VerificationKey.Dispose();
        TlsCertificate.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static X509Certificate2 CreateTlsCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fake-apns.test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        // Kestrel on Linux wants the private key as if loaded from a store: round-trip through PFX.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), password: null);
    }
}
