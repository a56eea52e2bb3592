using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Options;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CallNotify.Application;

public static class DependencyInjection
{
    /// <summary>
    /// Registers the application layer: validators, options and the dispatcher. The mediator itself is added by the
    /// host (the source generator runs there), with the pipeline behaviours of <c>Common/Behaviours</c>.
    /// </summary>
    public static IServiceCollection AddApplication(this IServiceCollection services)
    {
        // Errors name fields the way the API's JSON does (camelCase), not as C# properties.
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) =>
            member is null ? null : System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        services.AddValidatorsFromAssembly(typeof(DependencyInjection).Assembly, ServiceLifetime.Singleton, includeInternalTypes: true);
        services.AddOptions<DispatchOptions>().BindConfiguration(DispatchOptions.Section).ValidateOnStart();
        services.AddOptions<StoreBudgetOptions>().BindConfiguration(StoreBudgetOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StoreBudgetOptions>, StoreBudgetOptionsValidator>();
        services.AddOptions<BindingOptions>().BindConfiguration(BindingOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DispatchOptions>, DispatchOptionsValidator>();
        services.AddSingleton<IValidateOptions<BindingOptions>, BindingOptionsValidator>();
        services.AddOptions<WebSocketSessionOptions>().BindConfiguration(WebSocketSessionOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebSocketSessionOptions>, WebSocketSessionOptionsValidator>();
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RetentionOptions>, RetentionOptionsValidator>();
        services.AddSingleton<NotificationDispatcher>();
        services.AddSingleton<DeliveryRunner>();
        services.AddSingleton<Clients.ClientAuthenticator>();
        services.AddSingleton<Common.Telemetry.RecentActivity>();
        services.AddSingleton<Common.Telemetry.CallNotifyMetrics>();
        return services;
    }
}
