using System.Security.Cryptography;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Channels.Apns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Tests.Channels.Apns;

public sealed class ApnsRegistrationTests
{
    private string _directory = null!;
    private string _keyFile = null!;

    [OneTimeSetUp]
    public void WriteKey()
    {
        _directory = Directory.CreateTempSubdirectory("callnotify-apns-registration-").FullName;
        _keyFile = Path.Combine(_directory, "AuthKey.p8");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(_keyFile, key.ExportPkcs8PrivateKeyPem());
    }

    [OneTimeTearDown]
    public void DeleteKey() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void WithoutApnsSettingsNoApnsChannelIsRegistered()
    {
        using var services = Build([]);

        services.GetRequiredService<IStartupValidator>().Validate();

        Assert.That(services.GetServices<INotificationChannel>(), Is.Empty);
    }

    [Test]
    public void WithTheThreeKeysBothApnsChannelsAreRegistered()
    {
        using var services = Build(FullSettings());

        services.GetRequiredService<IStartupValidator>().Validate();

        Assert.That(services.GetServices<INotificationChannel>().Select(c => c.Kind), Is.EquivalentTo(new[] { ChannelKind.ApnsVoip, ChannelKind.Apns }));
    }

    [Test]
    public void RegisteringTwiceStillGivesOneChannelPerKind()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(FullSettings()).Build();
        var collection = new ServiceCollection().AddLogging();
        collection.AddApnsChannels(configuration);
        collection.AddApnsChannels(configuration);
        using var services = collection.BuildServiceProvider();

        Assert.That(services.GetServices<INotificationChannel>().Select(c => c.Kind), Is.EquivalentTo(new[] { ChannelKind.ApnsVoip, ChannelKind.Apns }));
    }

    [Test]
    public void AHalfConfiguredKeySetFailsAtStartNamingTheKey()
    {
        using var services = Build(new()
        {
            ["Apns:KeyId"] = "KEY123456B",
            ["Apns:PrivateKeyFile"] = _keyFile,
        });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(
                () => services.GetRequiredService<IStartupValidator>().Validate(),
                Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("Apns:TeamId is required when Apns:KeyId is set."));
            Assert.That(services.GetServices<INotificationChannel>(), Is.Empty, "APNs stays off");
        }
    }

    private Dictionary<string, string?> FullSettings() => new()
    {
        ["Apns:TeamId"] = "TEAM12345A",
        ["Apns:KeyId"] = "KEY123456B",
        ["Apns:PrivateKeyFile"] = _keyFile,
    };

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddApnsChannels(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
