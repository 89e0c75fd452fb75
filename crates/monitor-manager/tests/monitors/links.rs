//! Links: abnormal exits propagate, normal ones do not, trapping turns them into messages.

use foundation_mailbox::{ExitReason, SystemMessage};
use foundation_monitor_manager::{LinkError, link};

use super::support::{Cast, PATIENCE, ProbeFailed, Watched};

#[tokio::test]
async fn an_abnormal_exit_takes_the_linked_process_with_it() {
    for (cause, reason) in [
        (Cast::Panic, ExitReason::panic("probe panicked on purpose")),
        (Cast::Fail, ExitReason::error(ProbeFailed)),
        (Cast::StopWith(ExitReason::Killed), ExitReason::Killed),
    ] {
        let a = Watched::start().await;
        let b = Watched::start().await;
        let link = link(&a.process, &b.process).expect("both alive");
        assert!(link.is_active());
        a.cast(cause).await;
        assert_eq!(b.process.wait_for_exit(PATIENCE).await, Ok(reason.clone()));
        assert_eq!(a.process.exit_reason(), Some(reason));
        assert!(!link.is_active());
    }
}

#[tokio::test]
async fn a_kill_propagates_both_ways() {
    let a = Watched::start().await;
    let b = Watched::start().await;
    let _link = link(&a.process, &b.process).expect("both alive");
    assert!(b.process.kill());
    assert_eq!(
        a.process.wait_for_exit(PATIENCE).await,
        Ok(ExitReason::Killed)
    );
}

#[tokio::test]
async fn a_normal_exit_does_not_propagate() {
    let a = Watched::start().await;
    let mut b = Watched::start().await;
    let link = link(&a.process, &b.process).expect("both alive");
    a.process
        .stop(ExitReason::Normal, PATIENCE)
        .await
        .expect("stops");
    // The signal was delivered and ignored: b still answers.
    b.assert_quiet().await;
    assert!(b.process.is_alive());
    assert!(!link.is_active());
}

#[tokio::test]
async fn a_trapping_process_receives_the_exit_as_a_message() {
    let a = Watched::start().await;
    let mut b = Watched::start().await;
    b.cast(Cast::TrapExits).await;
    let _link = link(&a.process, &b.process).expect("both alive");
    a.cast(Cast::Panic).await;
    assert_eq!(
        b.next().await,
        SystemMessage::Exit {
            from: a.process.pid(),
            reason: ExitReason::panic("probe panicked on purpose"),
        }
    );
    assert!(b.process.is_alive());

    // A normal exit reaches a trapping process as a message too (OTP).
    let c = Watched::start().await;
    let _link = link(&c.process, &b.process).expect("both alive");
    c.process
        .stop(ExitReason::Normal, PATIENCE)
        .await
        .expect("stops");
    assert_eq!(
        b.next().await,
        SystemMessage::Exit {
            from: c.process.pid(),
            reason: ExitReason::Normal,
        }
    );
}

#[tokio::test]
async fn unlinked_processes_no_longer_share_their_fate() {
    let a = Watched::start().await;
    let mut b = Watched::start().await;
    let link = link(&a.process, &b.process).expect("both alive");
    assert!(link.unlink());
    assert!(!link.unlink());
    a.cast(Cast::Panic).await;
    a.process.wait_for_exit(PATIENCE).await.expect("exits");
    b.assert_quiet().await;
    assert!(b.process.is_alive());
}

#[tokio::test]
async fn linking_to_a_dead_or_the_same_process_fails() {
    let a = Watched::start().await;
    let mut b = Watched::start().await;
    assert_eq!(
        link(&a.process, &a.process).err(),
        Some(LinkError::SelfLink)
    );
    a.process.kill();
    a.process.wait_for_exit(PATIENCE).await.expect("exits");
    assert_eq!(
        link(&b.process, &a.process).err(),
        Some(LinkError::NoProcess(a.process.pid()))
    );
    // b's half-made link was removed: b lives on, quietly.
    b.assert_quiet().await;
}
