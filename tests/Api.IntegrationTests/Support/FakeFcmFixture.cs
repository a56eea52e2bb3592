using CallNotify.Infrastructure.Tests.Channels.Fcm;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>
/// An <see cref="ApiFixture"/> whose service sends FCM pushes to a fake FCM on loopback (with its own service account
/// and OAuth token endpoint), cleared before each test.
/// </summary>
public abstract class FakeFcmFixture(StoreKind storeKind) : ApiFixture(storeKind)
{
    private DirectoryInfo _keys = null!;
    private string _keyFile = null!;

    protected FakeFcmServer Fcm { get; private set; } = null!;

#pragma warning disable NUnit1032 // Disposed in AfterStopAsync, which the base class's one-time tear-down calls.
    protected ServiceAccount FcmAccount { get; private set; } = null!;
#pragma warning restore NUnit1032

    protected override IDictionary<string, string?>? Settings => FcmSettings();

    /// <summary>What points the service at the fake; a fixture with settings of its own adds them to these.</summary>
    protected Dictionary<string, string?> FcmSettings() => new()
    {
        ["Fcm:CredentialsFile"] = _keyFile,
        ["Fcm:Endpoint"] = Fcm.BaseUrl.ToString(),
    };

    protected override async Task BeforeStartAsync()
    {
        FcmAccount = new ServiceAccount();
        Fcm = await FakeFcmServer.StartAsync(FcmAccount);
        _keys = Directory.CreateTempSubdirectory("callnotify-fcm-");
        _keyFile = FcmAccount.WriteKeyFile(_keys.FullName, Fcm.TokenUri);
    }

    protected override async ValueTask AfterStopAsync()
    {
        await Fcm.DisposeAsync();
        FcmAccount.Dispose();
        _keys.Delete(recursive: true);
    }

    [SetUp]
    public void ClearFakeFcm()
    {
        Fcm.Sends.Clear();
        Fcm.Script.Clear();
    }
}
