using CallNotify.Infrastructure.Channels.Fcm;

namespace CallNotify.Infrastructure.Tests.Channels.Fcm;

public sealed class FcmOptionsValidatorTests
{
    private const string TokenUri = "https://oauth2.googleapis.com/token";

    private ServiceAccount _account = null!;
    private string _directory = null!;

    [OneTimeSetUp]
    public void CreateServiceAccount() => _account = new ServiceAccount();

    [OneTimeTearDown]
    public void DisposeServiceAccount() => _account.Dispose();

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("callnotify-fcm-options-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void WithoutCredentialsFileFcmIsOffAndValid()
    {
        var options = new FcmOptions();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(options.IsEnabled, Is.False);
            Assert.That(Validate(options), Is.Empty);
        }
    }

    [Test]
    public void AReadableServiceAccountFileIsValid()
    {
        var options = new FcmOptions { CredentialsFile = _account.WriteKeyFile(_directory, TokenUri) };

        using (Assert.EnterMultipleScope())
        {
            Assert.That(options.IsEnabled, Is.True);
            Assert.That(Validate(options), Is.Empty);
        }
    }

    [Test]
    public void AFileThatCannotBeReadIsNamed()
    {
        var path = Path.Combine(_directory, "missing.json");

        Assert.That(Validate(new FcmOptions { CredentialsFile = path }), Has.Some.StartsWith($"Fcm:CredentialsFile '{path}' cannot be read"));
    }

    [TestCase("this is not JSON")]
    [TestCase("[1, 2, 3]")]
    [TestCase("""{"type":"service_account","project_id":"p","client_email":"e@x"}""")]
    [TestCase("""{"type":"service_account","client_email":"e@x","private_key":"-----BEGIN PRIVATE KEY-----"}""")]
    [TestCase("""{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"}""")]
    public void AFileThatIsNotAServiceAccountKeyIsNamed(string json)
    {
        var path = Path.Combine(_directory, "bad.json");
        File.WriteAllText(path, json);

        Assert.That(
            Validate(new FcmOptions { CredentialsFile = path }),
            Has.Some.StartsWith($"Fcm:CredentialsFile '{path}' is not a service-account JSON with project_id, client_email, private_key"));
    }

    [Test]
    public void AServiceAccountTypeWithAnUnusablePrivateKeyIsNamed()
    {
        var path = _account.WriteKeyFile(_directory, TokenUri, f => f["private_key"] = _account.Pkcs1PrivateKeyPem);

        Assert.That(Validate(new FcmOptions { CredentialsFile = path }), Has.Some.StartsWith($"Fcm:CredentialsFile '{path}' has a private_key"));
    }

    [Test]
    public void ATokenUriThatIsNotAnHttpUrlIsNamed()
    {
        var path = _account.WriteKeyFile(_directory, "file:///etc/passwd");

        Assert.That(Validate(new FcmOptions { CredentialsFile = path }), Has.Some.StartsWith($"Fcm:CredentialsFile '{path}' has a token_uri"));
    }

    [TestCase("not a url")]
    [TestCase("/v1/relative")]
    [TestCase("ftp://fcm.googleapis.com")]
    [TestCase("https://fcm.googleapis.com/?x=1")]
    public void AnEndpointThatIsNotAnAbsoluteHttpUrlIsNamed(string endpoint)
    {
        Assert.That(Validate(new FcmOptions { Endpoint = endpoint }), Has.Some.StartsWith("Fcm:Endpoint must be an absolute http(s) URL"));
    }

    [TestCase("https://fcm.googleapis.com")]
    [TestCase("http://127.0.0.1:8080/")]
    [TestCase("https://proxy.example/fcm")]
    public void AnAbsoluteHttpEndpointIsValid(string endpoint)
    {
        Assert.That(Validate(new FcmOptions { Endpoint = endpoint }), Is.Empty);
    }

    private static IEnumerable<string> Validate(FcmOptions options) =>
        new FcmOptionsValidator().Validate(null, options).Failures ?? [];
}
