using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Http;

/// <summary>
/// <c>ForwardedHeaders:KnownProxies:N</c> (addresses) and <c>ForwardedHeaders:KnownNetworks:N</c> (CIDR ranges): the
/// senders whose <c>X-Forwarded-For</c>, <c>-Proto</c> and <c>-Host</c> are believed. With both empty none are: ASP.NET
/// Core's middleware would otherwise believe every sender (issue #15), and the client address every rate limit keys
/// on would be whatever a client writes.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    public string[] KnownProxies { get; set; } = [];

    public string[] KnownNetworks { get; set; } = [];
}

internal sealed class ForwardedHeadersSettingsValidator : IValidateOptions<ForwardedHeadersSettings>
{
    public ValidateOptionsResult Validate(string? name, ForwardedHeadersSettings options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.KnownProxies.Length; i++)
        {
            if (!IPAddress.TryParse(options.KnownProxies[i], out _))
            {
                failures.Add($"{ForwardedHeadersSettings.Section}:KnownProxies:{i} is not an IP address (was '{options.KnownProxies[i]}').");
            }
        }

        for (var i = 0; i < options.KnownNetworks.Length; i++)
        {
            if (!System.Net.IPNetwork.TryParse(options.KnownNetworks[i], out _))
            {
                failures.Add($"{ForwardedHeadersSettings.Section}:KnownNetworks:{i} is not a CIDR range such as 10.0.0.0/8 (was '{options.KnownNetworks[i]}').");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class ForwardedHeadersSetup
{
    public static IServiceCollection AddCallNotifyForwardedHeaders(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ForwardedHeadersSettings>, ForwardedHeadersSettingsValidator>();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((options, settings) =>
        {
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in settings.Value.KnownProxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in settings.Value.KnownNetworks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }

            // No trusted sender named: believe no forwarded header at all.
            options.ForwardedHeaders = options.KnownProxies.Count == 0 && options.KnownIPNetworks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        });
        return services;
    }
}
