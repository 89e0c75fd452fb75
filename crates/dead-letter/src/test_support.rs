//! What the unit tests share: a small actor to deliver to.

use foundation_mailbox::{Actor, Context, Reply};

/// Adds what it is sent; answers [`CounterMsg::Total`] with the sum; a 0
/// crashes it.
#[derive(Debug)]
pub(crate) struct Counter(pub(crate) u64);

/// What a [`Counter`] is sent.
#[derive(Debug)]
pub(crate) enum CounterMsg {
    Add(u64),
    Total(Reply<u64>),
}

/// A number is an `Add`, so tests can cast plain numbers.
impl From<u64> for CounterMsg {
    fn from(add: u64) -> Self {
        Self::Add(add)
    }
}

impl Actor for Counter {
    type Args = ();
    type Msg = CounterMsg;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Counter(0))
    }

    async fn handle(
        &mut self,
        message: CounterMsg,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        match message {
            CounterMsg::Add(add) => {
                assert!(add != 0, "counter told to crash");
                self.0 += add;
            }
            CounterMsg::Total(reply) => reply.send(self.0).unwrap_or_default(),
        }
        Ok(())
    }
}
