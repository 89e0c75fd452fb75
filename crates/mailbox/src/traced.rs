//! [`Traced`]: a message part that carries its sender's span to the actor
//! that handles it, for tracing a request across actors. Opt-in, by type:
//! a message without one costs nothing.

use std::{fmt, future::Future};

use tracing::{Instrument, Span, instrument::Instrumented};

/// A value sent with the span that was current where it was made, so the
/// actor that handles it can link its work to the sender's: wrap a request
/// (usually its [`Reply`](crate::Reply) port, or the whole request) when a
/// call should be traceable across actors.
///
/// The handler chooses how: [`follow`](Self::follow) links the actor's own
/// `message` span to the sender's (`follows_from`) and keeps the actor's
/// pid on its events; [`in_span`](Self::in_span) and
/// [`instrument`](Self::instrument) run the work inside the sender's span.
/// When no subscriber is interested, the span is empty and costs a copy of
/// a few words.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Actor, Context, Reply, Traced, start};
/// use tracing::Instrument;
///
/// #[derive(Debug)]
/// struct Inventory;
///
/// #[derive(Debug)]
/// enum Msg {
///     Count(Traced<Reply<u32>>),
/// }
///
/// impl Actor for Inventory {
///     type Args = ();
///     type Msg = Msg;
///     type Error = std::convert::Infallible;
///
///     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
///         Ok(Inventory)
///     }
///
///     async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
///         match msg {
///             Msg::Count(request) => {
///                 // This handler's span now follows from the caller's.
///                 let reply = request.follow();
///                 tracing::info!("counting");
///                 reply.send(3).unwrap_or_default();
///             }
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (inventory, _handle) = start::<Inventory>(()).await.unwrap();
/// let span = tracing::info_span!("checkout", order = 7);
/// let count = async {
///     inventory
///         .call(|reply| Msg::Count(Traced::new(reply)), Duration::from_secs(1))
///         .await
/// };
/// assert_eq!(count.instrument(span).await.unwrap(), 3);
/// # }
/// ```
pub struct Traced<T> {
    value: T,
    span: Span,
}

impl<T> Traced<T> {
    /// Wraps `value` with the current span.
    pub fn new(value: T) -> Self {
        Self::with_span(value, Span::current())
    }

    /// Wraps `value` with `span`.
    pub fn with_span(value: T, span: Span) -> Self {
        Self { value, span }
    }

    /// The sender's span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Marks the current span (in a handler: the actor's `message` span)
    /// as following from the sender's, and returns the value.
    pub fn follow(self) -> T {
        Span::current().follows_from(&self.span);
        self.value
    }

    /// Runs `work` on the value inside the sender's span.
    pub fn in_span<U>(self, work: impl FnOnce(T) -> U) -> U {
        let Self { value, span } = self;
        span.in_scope(|| work(value))
    }

    /// The future `work` makes from the value, instrumented with the
    /// sender's span: for work that awaits.
    pub fn instrument<F: Future>(self, work: impl FnOnce(T) -> F) -> Instrumented<F> {
        let Self { value, span } = self;
        work(value).instrument(span)
    }

    /// The value and the span, apart.
    pub fn into_parts(self) -> (T, Span) {
        (self.value, self.span)
    }
}

impl<T: fmt::Debug> fmt::Debug for Traced<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Traced")
            .field("value", &self.value)
            .field("span", &self.span.id())
            .finish()
    }
}
