using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Channels.Fcm;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Tests.Channels.Fcm;

public sealed class FcmRegistrationTests
{
    private ServiceAccount _account = null!;
    private string _directory = null!;

    [OneTimeSetUp]
    public void CreateServiceAccount() => _account = new ServiceAccount();

    [OneTimeTearDown]
    public void DisposeServiceAccount() => _account.Dispose();

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("callnotify-fcm-registration-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestCase(null)]
    [TestCase("")]
    public void WithoutCredentialsFileNoFcmChannelIsRegistered(string? credentialsFile)
    {
        using var services = Build(new() { ["Fcm:CredentialsFile"] = credentialsFile });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(services.GetServices<INotificationChannel>(), Is.Empty);
            Assert.That(() => services.GetRequiredService<IStartupValidator>().Validate(), Throws.Nothing);
        }
    }

    [Test]
    public void WithCredentialsFileTheFcmChannelIsRegistered()
    {
        using var services = Build(new() { ["Fcm:CredentialsFile"] = _account.WriteKeyFile(_directory, "https://oauth2.googleapis.com/token") });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(services.GetServices<INotificationChannel>().Select(c => c.Kind), Is.EqualTo(new[] { ChannelKind.Fcm }));
            Assert.That(services.GetRequiredService<IFcmAccessTokenSource>().ProjectId, Is.EqualTo(ServiceAccount.ProjectId));
            Assert.That(() => services.GetRequiredService<IStartupValidator>().Validate(), Throws.Nothing);
        }
    }

    [Test]
    public void StartupFailsNamingTheKeyWhenTheCredentialsFileIsUnreadable()
    {
        var path = Path.Combine(_directory, "missing.json");
        using var services = Build(new() { ["Fcm:CredentialsFile"] = path });

        Assert.That(
            () => services.GetRequiredService<IStartupValidator>().Validate(),
            Throws.InstanceOf<OptionsValidationException>().With.Message.Contains($"Fcm:CredentialsFile '{path}' cannot be read"));
    }

    [Test]
    public void StartupFailsNamingTheKeyWhenTheEndpointIsNotAUrl()
    {
        using var services = Build(new()
        {
            ["Fcm:CredentialsFile"] = _account.WriteKeyFile(_directory, "https://oauth2.googleapis.com/token"),
            ["Fcm:Endpoint"] = "fcm.googleapis.com",
        });

        Assert.That(
            () => services.GetRequiredService<IStartupValidator>().Validate(),
            Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("Fcm:Endpoint must be an absolute http(s) URL"));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddFcmChannel(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }
}
