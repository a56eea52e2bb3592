using CallNotify.Application.Common.Exceptions;
using FluentValidation;
using Mediator;
using Microsoft.Extensions.Logging;

namespace CallNotify.Application.Common.Behaviours;

/// <summary>Outermost behaviour: logs what escapes a handler (without the message's contents) and lets it go on.</summary>
public sealed class UnhandledExceptionBehaviour<TMessage, TResponse>(ILogger<UnhandledExceptionBehaviour<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        try
        {
            return await next(message, cancellationToken);
        }
        catch (Exception ex) when (ex is not (ValidationException or NotFoundException or ConflictException or OperationCanceledException or Domain.Common.DomainException))
        {
            logger.LogError(ex, "{Message} failed", typeof(TMessage).Name);
            throw;
        }
    }
}
