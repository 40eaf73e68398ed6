export declare const CLAIM_FILE: ".longpoll-bench-run";
export declare function newRunId(date?: Date): string;
