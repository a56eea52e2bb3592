using System.Security.Cryptography;
using CallNotify.Infrastructure.Channels.Apns;

namespace CallNotify.Infrastructure.Tests.Channels.Apns;

public sealed class ApnsOptionsValidatorTests
{
    private string _directory = null!;
    private string _validKey = null!;

    [OneTimeSetUp]
    public void WriteKeys()
    {
        _directory = Directory.CreateTempSubdirectory("callnotify-apns-options-").FullName;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _validKey = Write("valid.p8", key.ExportPkcs8PrivateKeyPem());
    }

    [OneTimeTearDown]
    public void DeleteKeys() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void NoApnsSettingsAtAllIsValidAndMeansApnsIsOff()
    {
        var options = new ApnsOptions();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Validate(options), Is.Empty);
            Assert.That(options.IsConfigured, Is.False);
        }
    }

    [Test]
    public void AFullKeySetIsValidAndMeansApnsIsOn()
    {
        var options = Full();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Validate(options), Is.Empty);
            Assert.That(options.IsConfigured, Is.True);
        }
    }

    [Test]
    public void APartialKeySetNamesTheMissingKeys()
    {
        var failures = Validate(new ApnsOptions { KeyId = "KEY123456B" });

        Assert.That(failures, Is.EquivalentTo(new[]
        {
            "Apns:TeamId is required when Apns:KeyId is set.",
            "Apns:PrivateKeyFile is required when Apns:KeyId is set.",
        }));
    }

    [Test]
    public void AnUnreadableKeyFileIsNamed()
    {
        var path = Path.Combine(_directory, "missing.p8");

        Assert.That(Validate(Full(privateKeyFile: path)), Has.One.StartsWith($"Apns:PrivateKeyFile '{path}' cannot be read"));
    }

    private static IEnumerable<TestCaseData> NotP256Pkcs8Keys()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        yield return new TestCaseData("p384.p8", p384.ExportPkcs8PrivateKeyPem()).SetArgDisplayNames("P-384");
        using var rsa = RSA.Create(2048);
        yield return new TestCaseData("rsa.p8", rsa.ExportPkcs8PrivateKeyPem()).SetArgDisplayNames("RSA");
        using var sec1 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        yield return new TestCaseData("sec1.p8", sec1.ExportECPrivateKeyPem()).SetArgDisplayNames("SEC1 EC PRIVATE KEY");
        yield return new TestCaseData("text.p8", "not a key").SetArgDisplayNames("text");
        yield return new TestCaseData("broken.p8", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").SetArgDisplayNames("broken DER");
    }

    [TestCaseSource(nameof(NotP256Pkcs8Keys))]
    public void AKeyFileThatIsNotAPkcs8P256KeyIsNamed(string name, string contents)
    {
        var path = Write(name, contents);

        Assert.That(Validate(Full(privateKeyFile: path)), Is.EqualTo(new[]
        {
            $"Apns:PrivateKeyFile '{path}' is not a PKCS#8 P-256 key (the .p8 file of an APNs auth key).",
        }));
    }

    [TestCase("ProductionEndpoint", "http://api.push.apple.com")]
    [TestCase("ProductionEndpoint", "api.push.apple.com")]
    [TestCase("SandboxEndpoint", "")]
    [TestCase("SandboxEndpoint", "ftp://api.sandbox.push.apple.com")]
    public void AnEndpointThatIsNotAnAbsoluteHttpsUrlIsNamed(string key, string value)
    {
        var options = Full();
        if (key == "ProductionEndpoint")
        {
            options.ProductionEndpoint = value;
        }
        else
        {
            options.SandboxEndpoint = value;
        }

        Assert.That(Validate(options), Is.EqualTo(new[] { $"Apns:{key} must be an absolute https URL." }));
    }

    [TestCase(19)]
    [TestCase(51)]
    public void ATokenLifetimeOutside20To50MinutesIsNamed(int minutes)
    {
        var options = Full();
        options.TokenLifetimeMinutes = minutes;

        Assert.That(Validate(options), Has.One.StartsWith("Apns:TokenLifetimeMinutes must be between 20 and 50"));
    }

    [Test]
    public void MalformedIdsAndBundleAreNamed()
    {
        var options = Full();
        options.TeamId = "TEAM";
        options.KeyId = "KEY 123456";
        options.BundleId = "com.example/app";

        var failures = Validate(options);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failures, Has.One.StartsWith("Apns:TeamId must be"));
            Assert.That(failures, Has.One.StartsWith("Apns:KeyId must be"));
            Assert.That(failures, Has.One.StartsWith("Apns:BundleId 'com.example/app' is not a bundle id"));
        }
    }

    private ApnsOptions Full(string? privateKeyFile = null) => new()
    {
        TeamId = "TEAM12345A",
        KeyId = "KEY123456B",
        PrivateKeyFile = privateKeyFile ?? _validKey,
        BundleId = "com.example.app",
    };

    private static IEnumerable<string> Validate(ApnsOptions options) =>
        new ApnsOptionsValidator().Validate(null, options).Failures ?? [];

    private string Write(string name, string contents)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, contents);
        return path;
    }
}
