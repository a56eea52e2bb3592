using System.Collections.Concurrent;
using System.Net;
using CallNotify.Api.Http;
using CallNotify.Api.IntegrationTests.Support;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// The admin key's scheme is the admin API's alone (ADR 0034). ASP.NET Core makes a lone registered scheme the default,
/// which would run the admin key's handler for every request, each webhook's included; the service turns that off.
/// A counting handler provider sees which schemes the requests asked for.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
public sealed class AuthenticationSchemeTests(StoreKind store) : ApiFixture(store)
{
    private static readonly ConcurrentDictionary<string, int> HandlersAsked = new();

    protected override Action<IServiceCollection>? Services => services =>
        services.AddScoped<IAuthenticationHandlerProvider, CountingHandlerProvider>();

    [Test]
    public async Task NoDefaultSchemeIsSet()
    {
        var schemes = App.Services.GetRequiredService<IAuthenticationSchemeProvider>();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(await schemes.GetDefaultAuthenticateSchemeAsync(), Is.Null);
            Assert.That(await schemes.GetDefaultChallengeSchemeAsync(), Is.Null);
            Assert.That(await schemes.GetDefaultForbidSchemeAsync(), Is.Null);
        }
    }

    [Test]
    public async Task AWebhookRunsNoAuthenticationHandlerAndTheAdminApiRunsTheAdminKeys()
    {
        using var bob = await ConnectAsync("bob");
        HandlersAsked.Clear();
        using var webhook = await PostWebhookAsync(TwilioRequests.Body(messageId: TwilioRequests.NewMessageId()));
        var afterWebhook = HandlersAsked.GetValueOrDefault(AdminKeyAuthenticationHandler.SchemeName);

        using var admin = await Admin.GetAsync("/admin/v1/bindings");
        using var anonymousAdmin = await Anonymous.GetAsync("/admin/v1/bindings");
        var afterAdmin = HandlersAsked.GetValueOrDefault(AdminKeyAuthenticationHandler.SchemeName);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(webhook.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(afterWebhook, Is.Zero, "the webhook asked for the admin key's handler");
            Assert.That(admin.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(anonymousAdmin.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(afterAdmin, Is.GreaterThanOrEqualTo(2), "each admin call authenticates with the admin key");
        }
    }

    private sealed class CountingHandlerProvider(IAuthenticationSchemeProvider schemes) : IAuthenticationHandlerProvider
    {
        private readonly AuthenticationHandlerProvider _inner = new(schemes);

        public Task<IAuthenticationHandler?> GetHandlerAsync(HttpContext context, string authenticationScheme)
        {
            HandlersAsked.AddOrUpdate(authenticationScheme, 1, (_, n) => n + 1);
            return _inner.GetHandlerAsync(context, authenticationScheme);
        }
    }
}
