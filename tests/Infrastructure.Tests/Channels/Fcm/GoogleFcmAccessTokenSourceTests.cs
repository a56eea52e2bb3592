using CallNotify.Infrastructure.Channels.Fcm;
using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Infrastructure.Tests.Channels.Fcm;

/// <summary>
/// What the access tokens rest on: which endpoint Google.Apis.Auth calls and what it signs. These pin the library's
/// behaviour, so an upgrade that changes it fails here first.
/// </summary>
public sealed class GoogleFcmAccessTokenSourceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
    private ServiceAccount _account = null!;
    private FakeFcmServer _fake = null!;
    private string _directory = null!;

    [OneTimeSetUp]
    public void CreateServiceAccount() => _account = new ServiceAccount();

    [OneTimeTearDown]
    public void DisposeServiceAccount() => _account.Dispose();

    [SetUp]
    public async Task StartFake()
    {
        _directory = Directory.CreateTempSubdirectory("callnotify-fcm-token-").FullName;
        _fake = await FakeFcmServer.StartAsync(_account);
    }

    [TearDown]
    public async Task StopFake()
    {
        await _fake.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task ExchangesASignedAssertionAtTheKeyFilesTokenUri()
    {
        var source = new GoogleFcmAccessTokenSource(Options.Create(new FcmOptions { CredentialsFile = _account.WriteKeyFile(_directory, _fake.TokenUri) }), _time);

        var token = await source.GetAccessTokenAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        var assertion = _fake.Assertions.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(token, Does.StartWith("ya29.fake-access-token-1-"));
            Assert.That(source.ProjectId, Is.EqualTo(ServiceAccount.ProjectId));
            Assert.That(_fake.TokenExchanges, Is.EqualTo(1), "the exchange went to the token_uri, not to Google");
            Assert.That(_fake.TokenRefusals, Is.Empty);
            Assert.That(assertion.Issuer, Is.EqualTo(ServiceAccount.ClientEmail));
            Assert.That(assertion.Scope, Is.EqualTo(FakeFcmServer.FirebaseScope));
            Assert.That(assertion.KeyId, Is.EqualTo("0123456789abcdef0123456789abcdef01234567"));
        }
    }

    [Test]
    public async Task TheAssertionsAudienceIsGooglesTokenUrlWhateverTheTokenUri()
    {
        // Google's endpoint demands exactly this aud; the library signs it even when token_uri points elsewhere.
        _fake.ExpectedAudience = _fake.TokenUri;
        var source = new GoogleFcmAccessTokenSource(Options.Create(new FcmOptions { CredentialsFile = _account.WriteKeyFile(_directory, _fake.TokenUri) }), _time);

        Assert.That(async () => await source.GetAccessTokenAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)), Throws.InstanceOf<FcmCredentialException>());
        Assert.That(_fake.Assertions.Single().Audience, Is.EqualTo(FakeFcmServer.GoogleTokenAudience));
    }

    [Test]
    public async Task GoogleApisAuthsOwnKeyFileLoaderAlsoExchangesAtTheTokenUri()
    {
        // The alternative to reading the file ourselves; kept in step so that switching to it stays a safe choice.
        var credential = CredentialFactory.FromFile(_account.WriteKeyFile(_directory, _fake.TokenUri), JsonCredentialParameters.ServiceAccountCredentialType)
            .CreateScoped(GoogleFcmAccessTokenSource.Scope);

        var token = await credential.UnderlyingCredential.GetAccessTokenForRequestAsync().WaitAsync(TimeSpan.FromSeconds(10));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(token, Does.StartWith("ya29.fake-access-token-1-"));
            Assert.That(_fake.TokenExchanges, Is.EqualTo(1));
            Assert.That(((ServiceAccountCredential)credential.UnderlyingCredential).ProjectId, Is.EqualTo(ServiceAccount.ProjectId));
        }
    }
}
